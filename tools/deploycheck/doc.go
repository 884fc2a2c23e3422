// Package deploycheck holds tests, and nothing else, that hold the deployment to the service it deploys: the
// Container Apps definition (deploy/azure/containerapp.yaml) must use the port, probe routes, environment
// variables and shutdown timeout that the code in internal/ actually has, and the workflows in .github/ must
// agree with tools/go.mod and with each other; the license is named alike in LICENSE, the image labels, the
// release archives and the release workflow. The service's facts are read from its source, not copied here,
// so a change on one side without the other fails `cd tools && go test ./...`.
//
// It lives in the tools module because it parses YAML, and the service's own module depends on nothing but
// the standard library and godotenv.
package deploycheck
