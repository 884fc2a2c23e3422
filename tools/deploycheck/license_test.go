package deploycheck

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// license is the SPDX id of the LICENSE file, as the image labels and the README name it.
const license = "Apache-2.0"

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestLicenseIsNamedEverywhere: the LICENSE file is Apache 2.0, and every place that tells a user or a
// registry the license says so too.
func TestLicenseIsNamedEverywhere(t *testing.T) {
	text := readRepoFile(t, "LICENSE")
	for _, want := range []string{"Apache License", "Version 2.0, January 2004", "END OF TERMS AND CONDITIONS"} {
		if !strings.Contains(text, want) {
			t.Errorf("LICENSE lacks %q: it is not the Apache License 2.0 text", want)
		}
	}
	if !strings.Contains(readRepoFile(t, "README.md"), "(LICENSE)") {
		t.Error("README.md does not link the LICENSE file")
	}

	labels := dockerfileLabels(t)
	if labels["org.opencontainers.image.licenses"] != license {
		t.Errorf("Dockerfile: org.opencontainers.image.licenses = %q, want %q", labels["org.opencontainers.image.licenses"], license)
	}

	var releaser struct {
		Archives []struct {
			Files []any `yaml:"files"`
		} `yaml:"archives"`
	}
	if err := yaml.Unmarshal([]byte(readRepoFile(t, ".goreleaser.yaml")), &releaser); err != nil {
		t.Fatal(err)
	}
	if len(releaser.Archives) == 0 {
		t.Fatal(".goreleaser.yaml: no archives")
	}
	for i, a := range releaser.Archives {
		if !slices.Contains(a.Files, any("LICENSE")) {
			t.Errorf(".goreleaser.yaml: archive %d does not ship LICENSE (files: %v)", i, a.Files)
		}
	}
}

// TestReleaseLabelsMatchTheDockerfile: docker/metadata-action labels the released image from the GitHub
// repository's settings unless told otherwise, so the release workflow repeats the Dockerfile's description and
// license, as labels and as annotations.
func TestReleaseLabelsMatchTheDockerfile(t *testing.T) {
	labels := dockerfileLabels(t)
	steps := stepsUsing(loadWorkflow(t, releasePath), "docker/metadata-action")
	if len(steps) != 1 {
		t.Fatalf("release.yml: %d docker/metadata-action steps, want 1", len(steps))
	}
	for _, input := range []string{"labels", "annotations"} {
		given := map[string]string{}
		for _, line := range strings.Split(steps[0].With[input], "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
				given[k] = v
			}
		}
		for _, key := range []string{"org.opencontainers.image.description", "org.opencontainers.image.licenses"} {
			if given[key] != labels[key] {
				t.Errorf("release.yml metadata-action %s: %s = %q, the Dockerfile says %q", input, key, given[key], labels[key])
			}
		}
	}
}

// dockerfileLabelRe is one key="value" pair of a LABEL instruction.
var dockerfileLabelRe = regexp.MustCompile(`(org\.opencontainers\.image\.[a-z.]+)="([^"]*)"`)

// dockerfileLabels returns the OCI labels the Dockerfile sets.
func dockerfileLabels(t *testing.T) map[string]string {
	t.Helper()
	labels := map[string]string{}
	for _, m := range dockerfileLabelRe.FindAllStringSubmatch(readRepoFile(t, "Dockerfile"), -1) {
		labels[m[1]] = m[2]
	}
	if labels["org.opencontainers.image.title"] == "" {
		t.Fatal("Dockerfile: no org.opencontainers.image.title label found; update dockerfileLabels to how it labels now")
	}
	return labels
}

// TestReadmeFitsInOneHead keeps README.md to what a newcomer reads in one go; the rest belongs in docs/.
func TestReadmeFitsInOneHead(t *testing.T) {
	info, err := os.Stat(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() > 12288 {
		t.Errorf("README.md is %d bytes, more than 12 KiB: move detail to docs/", info.Size())
	}
}
