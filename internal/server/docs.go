package server

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// openAPISource is the API description; the index page is made from it too, so the two cannot disagree.
//
//go:embed openapi.json
var openAPISource []byte

//go:embed index.html
var indexSource string

var indexTemplate = template.Must(template.New("index").Parse(indexSource))

// apiDocs is what the index page shows.
type apiDocs struct {
	Title, Summary, Version string
	Operations              []operation
}

// operation is one documented route, with what its curl example needs.
type operation struct {
	Method, Path, Summary string
	query                 []string // "key=value", escaped, in the documented order
	body                  string   // example JSON body
	header                string   // a header the example needs (x-curl-header), e.g. an ID token
}

// openAPIDoc is the part of openapi.json that the index page reads.
type openAPIDoc struct {
	Info struct {
		Title   string `json:"title"`
		Summary string `json:"summary"`
	} `json:"info"`
	Paths map[string]map[string]struct {
		Summary    string `json:"summary"`
		CurlHeader string `json:"x-curl-header"`
		Parameters []struct {
			Name    string `json:"name"`
			In      string `json:"in"`
			Example string `json:"example"`
		} `json:"parameters"`
		RequestBody struct {
			Content map[string]struct {
				Example json.RawMessage `json:"example"`
			} `json:"content"`
		} `json:"requestBody"`
	} `json:"paths"`
}

// loadOpenAPI stamps the version into openapi.json once, and reads the operations for the index page.
func loadOpenAPI(version string) ([]byte, *apiDocs, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPISource, &doc); err != nil {
		return nil, nil, fmt.Errorf("openapi.json: %w", err)
	}
	doc["info"].(map[string]any)["version"] = version
	stamped, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, nil, err
	}

	var parsed openAPIDoc
	if err := json.Unmarshal(openAPISource, &parsed); err != nil {
		return nil, nil, fmt.Errorf("openapi.json: %w", err)
	}
	docs := &apiDocs{Title: parsed.Info.Title, Summary: parsed.Info.Summary, Version: version}
	for path, methods := range parsed.Paths {
		for method, op := range methods {
			o := operation{Method: strings.ToUpper(method), Path: path, Summary: op.Summary, header: op.CurlHeader}
			for _, param := range op.Parameters {
				if param.In == "query" && param.Example != "" {
					// A slash needs no escaping in a query, and ns/name reads better as it is.
					value := strings.ReplaceAll(url.QueryEscape(param.Example), "%2F", "/")
					o.query = append(o.query, url.QueryEscape(param.Name)+"="+value)
				}
			}
			if example := op.RequestBody.Content["application/json"].Example; example != nil {
				if o.body, err = oneLine(example); err != nil {
					return nil, nil, fmt.Errorf("openapi.json: %s %s example: %w", o.Method, path, err)
				}
			}
			docs.Operations = append(docs.Operations, o)
		}
	}
	// A path's operations come in the order of a repository's life, so the examples work pasted in turn.
	lifeOrder := []string{"POST", "GET", "PUT", "DELETE"}
	slices.SortFunc(docs.Operations, func(a, b operation) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), cmp.Compare(slices.Index(lifeOrder, a.Method), slices.Index(lifeOrder, b.Method)))
	})
	return stamped, docs, nil
}

// oneLine writes a JSON example on one line, spaced as a person types it: {"type": "model", "private": true}.
// A JSON text has no raw newline inside its strings, so only the layout's newlines are replaced.
func oneLine(example json.RawMessage) (string, error) {
	var indented bytes.Buffer
	if err := json.Indent(&indented, example, "", ""); err != nil {
		return "", err
	}
	return strings.NewReplacer(",\n", ", ", "\n", "").Replace(indented.String()), nil
}

// Examples are curl commands for every API route (those under /api/) that needs nothing but the demo, in an
// order that works pasted in turn. (A route whose example needs a header, such as an ID token, is left out.)
func Examples(base string) ([]string, error) {
	_, docs, err := loadOpenAPI("")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range docs.Operations {
		if strings.HasPrefix(o.Path, "/api/") && o.header == "" {
			out = append(out, o.curl(base))
		}
	}
	return out, nil
}

// target is the path with the example query.
func (o operation) target() string {
	if len(o.query) == 0 {
		return o.Path
	}
	return o.Path + "?" + strings.Join(o.query, "&")
}

// curl is a command that works against base as it is.
func (o operation) curl(base string) string {
	target := base + o.target()
	cmd := "curl -sS"
	if o.Method != http.MethodGet {
		cmd += " -X " + o.Method
	}
	cmd += " '" + target + "'"
	if o.header != "" {
		cmd += ` -H "` + o.header + `"` // double quotes: the header names a shell variable
	}
	if o.body != "" {
		cmd += " -H 'Content-Type: application/json' -d '" + o.body + "'"
	}
	return cmd
}

// baseURL is how the caller reached this server, for examples they can paste.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func handleIndex(d *deps) handlerFunc {
	type shown struct {
		Method, Path, Summary, Curl string
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		base := baseURL(r)
		ops := make([]shown, 0, len(d.docs.Operations))
		for _, o := range d.docs.Operations {
			ops = append(ops, shown{o.Method, o.Path, o.Summary, o.curl(base)})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// The page needs no script and loads nothing from elsewhere; say so to the browser.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		return indexTemplate.Execute(w, map[string]any{"Docs": d.docs, "Operations": ops, "Base": base, "Demo": d.opts.Demo})
	}
}

func handleOpenAPI(d *deps) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write(d.openAPI)
		return err
	}
}
