package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"seatgraph/internal/codes"
	"seatgraph/internal/pgtext"
	"seatgraph/internal/store"
	"seatgraph/internal/telemetry"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The response media types of the GraphQL over HTTP specification.
const (
	mediaGraphQLResponse = "application/graphql-response+json"
	mediaJSON            = "application/json"
)

// overHTTP is seatgraph's GraphQL over HTTP transport: GET for queries,
// POST with a JSON body for everything, one operation per request. It
// follows https://graphql.github.io/graphql-over-http/draft/:
//
//   - the response is application/graphql-response+json or
//     application/json, as the Accept header asks (application/json when
//     it names neither specifically); 406 when it accepts neither;
//   - a request that is not a well-formed GraphQL request (malformed JSON,
//     no query, a batch, a CSRF-suspect or non-JSON content type) is 400,
//     an unsupported body media type 415, a body over the limit 413, a
//     mutation over GET 405;
//   - parse, validation, variable and limit errors are 400 with
//     application/graphql-response+json and 200 with application/json,
//     with no "data" entry; an operation refused for want of credentials
//     is 401.
type overHTTP struct{}

var _ graphql.Transport = overHTTP{}

// Supports takes every request except OPTIONS (answered by gqlgen's
// Options transport) and WebSocket upgrades.
func (overHTTP) Supports(r *http.Request) bool {
	return r.Method != http.MethodOptions && r.Header.Get("Upgrade") == ""
}

// requestError is a request refused before it reaches the executor.
type requestError struct {
	status  int
	message string
}

func refuse(status int, format string, args ...any) *requestError {
	return &requestError{status: status, message: fmt.Sprintf(format, args...)}
}

// Do serves one request.
func (t overHTTP) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	media, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		writeRequestError(w, r, mediaJSON, refuse(http.StatusNotAcceptable,
			"the Accept header allows neither %s nor %s", mediaGraphQLResponse, mediaJSON))
		return
	}
	if !preflighted(r.Header) {
		writeRequestError(w, r, media, refuse(http.StatusBadRequest, "this request has been blocked as a potential "+
			"cross-site request forgery: send a Content-Type of %s, or a non-empty %s header", mediaJSON,
			strings.Join(preflightHeaders, " or ")))
		return
	}
	var params *graphql.RawParams
	var rerr *requestError
	switch r.Method {
	case http.MethodGet:
		params, rerr = fromQueryString(r.URL.RawQuery)
	case http.MethodPost:
		params, rerr = fromBody(r)
	default:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		rerr = refuse(http.StatusMethodNotAllowed, "%s is not supported: use POST (or GET for queries)", r.Method)
	}
	if rerr != nil {
		writeRequestError(w, r, media, rerr)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: graphql.Now(), End: graphql.Now()}

	ctx := r.Context()
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		markBadVariables(errs)
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		writeResponse(w, media, statusOfRequestErrors(media, resp.Errors), &requestErrors{Errors: capErrors(resp.Errors)})
		return
	}
	if ctx.Err() != nil {
		// The request's deadline passed while the document was read or
		// validated: its answer (503) is already sent, so run nothing.
		return
	}
	if r.Method == http.MethodGet && opCtx.Operation.Operation != ast.Query {
		w.Header().Set("Allow", "POST")
		writeRequestError(w, r, media, refuse(http.StatusMethodNotAllowed,
			"%ss are not accepted over GET: use POST", opCtx.Operation.Operation))
		return
	}
	ctx, outcome := store.WithOutcome(ctx)
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	resp := responses(ctx)
	var status int
	status, resp.Errors = executed(resp.Errors, outcome.Committed())
	if b, ok := dataOnly(resp); ok {
		writeBody(w, media, status, b)
		return
	}
	writeResponse(w, media, status, resp)
}

// dataOnly is the body of a response that is data alone, written as
// json.Marshal writes it, without json.Marshal: it would check and copy
// the data byte by byte (a RawMessage) to escape what gqlgen already
// wrote compact. Not ok when the response has anything besides its data
// (gqlgen's executor gives every response its extensions, an empty map
// when there are none, which json.Marshal leaves out), or when the data
// holds a character json.Marshal escapes (<, >, &, U+2028, U+2029) or a
// newline or tab, which gqlgen escapes in strings, so that it can only be
// whitespace between tokens, which json.Marshal takes out: those go
// through writeResponse.
func dataOnly(resp *graphql.Response) ([]byte, bool) {
	if len(resp.Errors) > 0 || resp.Label != "" || resp.Path != nil || resp.HasNext != nil || len(resp.Extensions) > 0 ||
		len(resp.Data) == 0 || bytes.ContainsAny(resp.Data, "<>&\n\r\t") ||
		bytes.Contains(resp.Data, []byte("\u2028")) || bytes.Contains(resp.Data, []byte("\u2029")) {
		return nil, false
	}
	b := make([]byte, 0, len(resp.Data)+len(`{"data":}`))
	b = append(b, `{"data":`...)
	b = append(b, resp.Data...)
	return append(b, '}'), true
}

// executed decides the status of an executed operation from all its
// errors, then caps them (an error left out still decides the status).
// committed tells whether a write of the request committed.
func executed(errs gqlerror.List, committed bool) (int, gqlerror.List) {
	status := http.StatusOK
	if !committed && hasCode(errs, codes.ServiceUnavailable) {
		// The database is out of reach or the write could not get its
		// turn, and nothing was written: one retryable answer, whatever
		// else the response holds. Once a write committed, the answer is
		// 200 with the field's error: retrying the whole request would
		// write that again.
		status = http.StatusServiceUnavailable
	}
	return status, capErrors(errs)
}

func hasCode(errs gqlerror.List, code string) bool {
	for _, e := range errs {
		if e.Extensions["code"] == code {
			return true
		}
	}
	return false
}

// maxErrors is the most errors a response lists: a small document can
// make thousands (one per repeated unknown directive, one per failed
// field of a long list), and the answer must stay small.
const maxErrors = 50

// capErrors keeps the first maxErrors errors and replaces the rest by one
// error saying how many were left out, with the code of the first of them.
func capErrors(errs gqlerror.List) gqlerror.List {
	if len(errs) <= maxErrors {
		return errs
	}
	more := &gqlerror.Error{Message: fmt.Sprintf("too many errors: %d more left out", len(errs)-maxErrors),
		Extensions: map[string]any{"code": errs[maxErrors].Extensions["code"]}}
	return append(errs[:maxErrors:maxErrors], more)
}

// negotiate picks the response media type from an Accept header; ok is
// false when the header accepts neither JSON type.
func negotiate(accept string) (media string, ok bool) {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON, true
	}
	best, bestQ := "", 0.0
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		var m string
		switch mt {
		case mediaGraphQLResponse, mediaJSON:
			m = mt
		case "application/*", "*/*":
			m = mediaJSON
		default:
			continue
		}
		// Equal weights favour the newer, more precise type.
		if q > bestQ || (q == bestQ && q > 0 && m == mediaGraphQLResponse) {
			best, bestQ = m, q
		}
	}
	return best, bestQ > 0
}

// preflightHeaders are the headers whose presence proves a browser sent a
// CORS preflight first (as in Apollo Server's csrfPrevention).
var preflightHeaders = []string{"Apollo-Require-Preflight", "X-Apollo-Operation-Name"}

// simpleContentTypes are the content types a browser sends cross-site
// without a CORS preflight.
var simpleContentTypes = []string{"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}

// preflighted reports whether a browser could only have sent the request
// after a CORS preflight, so that a cross-site page cannot have forged it:
// it has a content type that is not "simple", or a preflight header. As in
// Apollo Server, a GET without either is refused too.
func preflighted(h http.Header) bool {
	if ct := h.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !slices.Contains(simpleContentTypes, mt) {
			return true // browsers preflight anything they cannot call simple
		}
	}
	for _, name := range preflightHeaders {
		if h.Get(name) != "" {
			return true
		}
	}
	return false
}

// body is the JSON request body; pointers tell null from missing.
type body struct {
	Query         *string        `json:"query"`
	OperationName *string        `json:"operationName"`
	Variables     map[string]any `json:"variables"`
	Extensions    map[string]any `json:"extensions"`
}

func (b *body) params() (*graphql.RawParams, *requestError) {
	if b.Query == nil || strings.TrimSpace(*b.Query) == "" {
		return nil, refuse(http.StatusBadRequest, "the request has no query")
	}
	// PostgreSQL text cannot hold U+0000: refuse it here, clearly, rather
	// than fail inside a resolver (strings in the query itself are checked
	// once it is parsed, by noNUL).
	if pgtext.HasNUL(b.Variables) {
		return nil, refuse(http.StatusBadRequest, "strings must not contain the NUL character (U+0000)")
	}
	p := &graphql.RawParams{Query: *b.Query, Variables: b.Variables, Extensions: b.Extensions}
	if b.OperationName != nil {
		p.OperationName = *b.OperationName
	}
	return p, nil
}

// fromBody reads a POST request: a single JSON object, in UTF-8, within
// the body size limit (enforced by readBody).
func fromBody(r *http.Request) (*graphql.RawParams, *requestError) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != mediaJSON {
		return nil, refuse(http.StatusUnsupportedMediaType, "the request body must be %s", mediaJSON)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, refuse(http.StatusUnsupportedMediaType, "the request body must be UTF-8, not %s", cs)
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, refuse(http.StatusRequestEntityTooLarge, "the request body is larger than %d bytes", mbe.Limit)
		}

		return nil, refuse(http.StatusBadRequest, "the request body could not be read")
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		return nil, refuse(http.StatusBadRequest, "batched requests are not supported: send one operation per request")
	}
	var b body
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		return nil, refuse(http.StatusBadRequest, "the request body is not a GraphQL request in JSON: %s", jsonProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, refuse(http.StatusBadRequest, "the request body has data after the JSON object")
	}
	return b.params()
}

// fromQueryString reads a GET request's parameters.
func fromQueryString(raw string) (*graphql.RawParams, *requestError) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "the query string is malformed")
	}
	var b body
	if v := q.Get("query"); v != "" {
		b.Query = &v
	}
	if v := q.Get("operationName"); v != "" {
		b.OperationName = &v
	}
	for name, dst := range map[string]*map[string]any{"variables": &b.Variables, "extensions": &b.Extensions} {
		if v := q.Get(name); v != "" {
			dec := json.NewDecoder(strings.NewReader(v))
			dec.UseNumber()
			if err := dec.Decode(dst); err != nil {
				return nil, refuse(http.StatusBadRequest, "the %s parameter is not a JSON object", name)
			}
		}
	}
	return b.params()
}

// jsonProblem describes a decoding error without echoing the body.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("%q must not be a JSON %s", typ.Field, typ.Value)
		}
		return fmt.Sprintf("expected an object, not a JSON %s", typ.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is empty or cut short"
	}
	return "invalid JSON"
}

// markBadVariables codes errors about variable values BAD_USER_INPUT (as
// Apollo Server does): the operation is valid, the input given to it is not.
func markBadVariables(errs gqlerror.List) {
	for _, e := range errs {
		if len(e.Path) > 0 && e.Path[0] == ast.PathName("variable") {
			errcode.Set(e, codes.BadUserInput)
		}
	}
}

// statusOfRequestErrors is the status of a response whose request failed
// before execution (parse, validation, variables, limits, credentials).
func statusOfRequestErrors(media string, errs gqlerror.List) int {
	switch {
	case hasCode(errs, codes.Unauthenticated):
		return http.StatusUnauthorized
	case hasCode(errs, codes.ServiceUnavailable):
		return http.StatusServiceUnavailable
	}
	if media == mediaGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// requestErrors is the body of a request error: errors and no "data".
type requestErrors struct {
	Errors     gqlerror.List  `json:"errors"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

func writeRequestError(w http.ResponseWriter, r *http.Request, media string, e *requestError) {
	telemetry.From(r.Context()).AddError(codes.BadRequest)
	writeResponse(w, media, e.status, &requestErrors{Errors: gqlerror.List{
		{Message: e.message, Extensions: map[string]any{"code": codes.BadRequest}},
	}})
}

func writeResponse(w http.ResponseWriter, media string, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":[{"message":"internal server error","extensions":{"code":"` + codes.Internal + `"}}]}`)
	}
	writeBody(w, media, status, b)
}

func writeBody(w http.ResponseWriter, media string, status int, b []byte) {
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="seatgraph"`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
