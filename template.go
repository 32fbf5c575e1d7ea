// Package orgauth holds what the whole repository shares from its root: the
// SAM template that deploys a stage.
package orgauth

import _ "embed"

// Template is template.yaml, the SAM template of one stage. pkg/platform/routes reads
// the HTTP routes from it, so the local server routes exactly as API Gateway
// does.
//
//go:embed template.yaml
var Template []byte
