package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/schema"
	filter "github.com/scim2/filter-parser/v2"
)

// enterpriseUser is the one extension schema seatgraph registers (and
// does not store).
var enterpriseUser = schema.ExtensionEnterpriseUser().ID

// screenUserPatch prepares a User PATCH body for the library, which
// refuses, as an invalid value, any attribute of a schema it does not
// know: operations and path-less value keys naming an extension other
// than the enterprise one (an identity provider's custom attributes) are
// dropped, as seatgraph keeps no extension; a path-less key naming no
// attribute of a core User is refused as invalidPath. A body that is not
// a PATCH message is returned unchanged, for the library to refuse.
func screenUserPatch(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var msg map[string]any
	if dec.Decode(&msg) != nil {
		return body, nil
	}
	ops, ok := msg["Operations"].([]any)
	if !ok {
		return body, nil
	}
	kept, changed := make([]any, 0, len(ops)), false
	for _, o := range ops {
		op, _ := o.(map[string]any)
		if p, ok := op["path"].(string); ok {
			if path, err := filter.ParsePath([]byte(p)); err == nil && otherExtension(path.AttributePath.URI()) {
				changed = true
				continue
			}
		} else if value, ok := op["value"].(map[string]any); ok {
			for k := range value {
				if otherExtension(k) {
					delete(value, k)
					changed = true
					continue
				}
				path, err := filter.ParsePath([]byte(k))
				if err != nil {
					return nil, invalidPath(fmt.Sprintf("%q is not an attribute path", k))
				}
				uri := path.AttributePath.URI()
				switch {
				case otherExtension(uri):
					delete(value, k)
					changed = true
				case uri == "" || strings.EqualFold(uri, coreUser):
					sub := path.AttributePath.SubAttributeName()
					if path.SubAttribute != nil {
						sub = *path.SubAttribute
					}
					if !userPath(strings.ToLower(path.AttributePath.AttributeName), strings.ToLower(sub)) {
						return nil, invalidPath(fmt.Sprintf("%q is not an attribute of a User", k))
					}
				}
			}
		}
		kept = append(kept, o)
	}
	if !changed {
		return body, nil
	}
	msg["Operations"] = kept
	return json.Marshal(msg)
}

// otherExtension says whether s is (or starts with) the URI of a schema
// extension other than the enterprise User one.
func otherExtension(s string) bool {
	s = strings.ToLower(s)
	return strings.HasPrefix(s, "urn:") && strings.Contains(s, ":extension:") &&
		!strings.HasPrefix(s, strings.ToLower(enterpriseUser))
}

func invalidPath(detail string) error {
	return scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidPath, Detail: detail}
}
