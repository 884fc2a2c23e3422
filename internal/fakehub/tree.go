package fakehub

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// treeEntry is a file as the tree and paths-info listings show it; an LFS file carries lfs and, as files in
// Xet storage do, a xetHash (which Python 1.22+ uses to skip the download HEAD).
func treeEntry(path string, f *file) object {
	if !f.lfs {
		return object{{"type", "file"}, {"oid", f.oid}, {"size", len(f.content)}, {"path", path}}
	}
	pointer := fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", f.oid, len(f.content))
	xet := sha256.Sum256([]byte("xet:" + f.oid))
	return object{{"type", "file"}, {"oid", GitBlobID([]byte(pointer))}, {"size", len(f.content)}, {"path", path},
		{"lfs", object{{"oid", f.oid}, {"size", len(f.content)}, {"pointerSize", len(pointer)}}},
		{"xetHash", hex.EncodeToString(xet[:])}}
}

// commitFiles returns the files of a repository at a revision (main or a commit sha).
func (h *Hub) commitFiles(typ string, r *http.Request, c call) (map[string]*file, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rp := h.repos[repoKey(typ, r.PathValue("ns")+"/"+r.PathValue("name"))]
	if rp == nil || !h.canSee(c, rp) {
		return nil, errRepoHidden(c)
	}
	rev := r.PathValue("rev")
	if rev == "main" {
		rev = rp.sha
	}
	files, ok := rp.commits[rev]
	if !ok && rev != rp.sha {
		return nil, &hubError{status: http.StatusNotFound, code: "RevisionNotFound", msg: "Invalid rev id: " + r.PathValue("rev")}
	}
	return files, nil
}

// tree lists the files under a folder (the root without a path): with recursive=true all of them, otherwise
// those directly in it and its subfolders as directories. One page: the fake never has 1000 files.
func (h *Hub) tree(typ string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c call) error {
		files, err := h.commitFiles(typ, r, c)
		if err != nil {
			return err
		}
		dir := strings.Trim(r.PathValue("path"), "/")
		prefix := dir + "/"
		if dir == "" {
			prefix = ""
		}
		recursive := r.URL.Query().Get("recursive") == "true"
		entries := []object{}
		dirs := map[string]bool{}
		for _, p := range slices.Sorted(maps.Keys(files)) {
			rest, ok := strings.CutPrefix(p, prefix)
			if !ok {
				continue
			}
			if sub, _, nested := strings.Cut(rest, "/"); nested && !recursive {
				if !dirs[sub] {
					dirs[sub] = true
					entries = append(entries, object{{"type", "directory"}, {"oid", GitBlobID([]byte(prefix + sub))}, {"size", 0}, {"path", prefix + sub}})
				}
				continue
			}
			entries = append(entries, treeEntry(p, files[p]))
		}
		writeJSON(w, http.StatusOK, entries)
		return nil
	}
}

// pathsInfo answers POST paths-info: the entries of the paths asked for (a form's paths=, or JSON
// {"paths": [...]}) that exist; missing ones are left out.
func (h *Hub) pathsInfo(typ string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c call) error {
		files, err := h.commitFiles(typ, r, c)
		if err != nil {
			return err
		}
		var asked struct {
			Paths []string `json:"paths"`
		}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			if json.Unmarshal(c.body, &asked) != nil {
				return badRequest("Invalid JSON body")
			}
		} else if form, err := url.ParseQuery(string(c.body)); err == nil {
			asked.Paths = form["paths"]
		}
		entries := []object{}
		for _, p := range asked.Paths {
			if f := files[p]; f != nil {
				entries = append(entries, treeEntry(p, f))
			}
		}
		writeJSON(w, http.StatusOK, entries)
		return nil
	}
}
