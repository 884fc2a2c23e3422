// Command hf-micro is a small, safe gateway to the Hugging Face Hub. See the README.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hf-micro/hf-micro/internal/config"
)

func main() {
	err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "hf-micro:", err)
	if errors.As(err, new(*config.UsageError)) {
		os.Exit(2) // a command line it does not understand, as flag and most Unix tools exit
	}
	os.Exit(1)
}
