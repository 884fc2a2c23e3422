package hubroute

import "testing"

// BenchmarkFind is the route table's cost per request, for a file download (a late row) and whoami (the first).
func BenchmarkFind(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if m, err := Find("GET", "/acme/m/resolve/main/config.json", ""); m == nil || err != nil {
			b.Fatal(m, err)
		}
		if m, err := Find("GET", "/api/whoami-v2", ""); m == nil || err != nil {
			b.Fatal(m, err)
		}
	}
}
