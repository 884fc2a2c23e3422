// Command hf-micro is a small, safe gateway to the Hugging Face Hub. See the README.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hf-micro:", err)
		os.Exit(1)
	}
}
