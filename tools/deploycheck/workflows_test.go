package deploycheck

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"golang.org/x/mod/modfile"
	"gopkg.in/yaml.v3"
)

var (
	workflowsDir = filepath.Join(repoRoot, ".github", "workflows")
	releasePath  = filepath.Join(workflowsDir, "release.yml")
	deployPath   = filepath.Join(workflowsDir, "deploy.yml")
)

// step is one step of a workflow job.
type step struct {
	Uses string            `yaml:"uses"`
	With map[string]string `yaml:"with"`
}

type workflow struct {
	Name string `yaml:"name"`
	On   struct {
		WorkflowRun struct {
			Workflows []string `yaml:"workflows"`
		} `yaml:"workflow_run"`
	} `yaml:"on"`
	Jobs map[string]struct {
		Steps []step `yaml:"steps"`
	} `yaml:"jobs"`
}

func loadWorkflow(t *testing.T, path string) workflow {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(raw, &w); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return w
}

// stepsUsing returns the steps of w that use the action (owner/repo, any version).
func stepsUsing(w workflow, action string) []step {
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(action) + `@`)
	var out []step
	for _, job := range w.Jobs {
		for _, s := range job.Steps {
			if re.MatchString(s.Uses) {
				out = append(out, s)
			}
		}
	}
	return out
}

// pinnedRe is an action reference pinned to a major version tag (v7) or to a full commit SHA.
var pinnedRe = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@]+)?@(v[0-9]+|[0-9a-f]{40})$`)

func TestActionsArePinned(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(workflowsDir, "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	actions, err := filepath.Glob(filepath.Join(repoRoot, ".github", "actions", "*", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Glob(filepath.Join(repoRoot, "docs", "examples", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(append(files, actions...), examples...)
	if len(files) < 3 {
		t.Fatalf("found only %v", files)
	}
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		walkUses(&doc, func(uses string, line int) {
			switch {
			case len(uses) > 2 && uses[:2] == "./":
				// A local action, versioned with the repository.
			case !pinnedRe.MatchString(uses):
				t.Errorf("%s:%d: uses %s: pin a major version tag (@v7) or a full commit SHA", path, line, uses)
			}
		})
	}
}

func walkUses(n *yaml.Node, f func(uses string, line int)) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, v := n.Content[i], n.Content[i+1]; k.Value == "uses" && v.Kind == yaml.ScalarNode {
				f(v.Value, v.Line)
			}
		}
	}
	for _, c := range n.Content {
		walkUses(c, f)
	}
}

// The release workflow's GoReleaser is the one CI's `goreleaser check` runs: the version in tools/go.mod.
func TestReleaseUsesTheCheckedGoReleaser(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "tools", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := modfile.ParseLax("tools/go.mod", raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	var pinned string
	for _, r := range mod.Require {
		if r.Mod.Path == "github.com/goreleaser/goreleaser/v2" {
			pinned = r.Mod.Version
		}
	}
	if pinned == "" {
		t.Fatal("tools/go.mod does not require github.com/goreleaser/goreleaser/v2")
	}
	steps := stepsUsing(loadWorkflow(t, releasePath), "goreleaser/goreleaser-action")
	if len(steps) != 1 {
		t.Fatalf("release.yml: %d goreleaser/goreleaser-action steps, want 1", len(steps))
	}
	if got := steps[0].With["version"]; got != pinned {
		t.Errorf("release.yml runs GoReleaser %q, tools/go.mod pins %s: make them equal", got, pinned)
	}
}

// Deploy follows Release by its name and reads the artifact Release uploads: a rename on one side only would
// silently stop deployments.
func TestDeployFollowsRelease(t *testing.T) {
	release, deploy := loadWorkflow(t, releasePath), loadWorkflow(t, deployPath)
	found := false
	for _, name := range deploy.On.WorkflowRun.Workflows {
		found = found || name == release.Name
	}
	if !found {
		t.Errorf("deploy.yml runs after workflows %q, but release.yml is named %q", deploy.On.WorkflowRun.Workflows, release.Name)
	}
	uploads := stepsUsing(release, "actions/upload-artifact")
	downloads := stepsUsing(deploy, "actions/download-artifact")
	if len(uploads) != 1 || len(downloads) != 1 {
		t.Fatalf("want one upload-artifact step in release.yml and one download-artifact step in deploy.yml, got %d and %d", len(uploads), len(downloads))
	}
	if up, down := uploads[0].With["name"], downloads[0].With["name"]; up == "" || up != down {
		t.Errorf("release.yml uploads artifact %q, deploy.yml downloads %q", up, down)
	}
}
