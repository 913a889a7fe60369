package httpapi_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"seatgraph/internal/apitest"
	"seatgraph/internal/gid"
	"seatgraph/internal/telemetry"
)

// receiver is an in-process OTLP/HTTP trace receiver: it decodes the
// exporter's protobuf requests and keeps the spans.
type receiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req collectortrace.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			rc.spans = append(rc.spans, ss.Spans...)
		}
	}
	rc.mu.Unlock()
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// tree is the spans of one trace.
type tree struct {
	byID     map[string]*tracepb.Span
	children map[string][]*tracepb.Span
	root     *tracepb.Span
}

func (rc *receiver) trace(traceID []byte) *tree {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	tr := &tree{byID: map[string]*tracepb.Span{}, children: map[string][]*tracepb.Span{}}
	for _, s := range rc.spans {
		if bytes.Equal(s.TraceId, traceID) {
			tr.byID[string(s.SpanId)] = s
		}
	}
	for _, s := range tr.byID {
		if _, ok := tr.byID[string(s.ParentSpanId)]; ok {
			tr.children[string(s.ParentSpanId)] = append(tr.children[string(s.ParentSpanId)], s)
		} else {
			tr.root = s
		}
	}
	for _, cs := range tr.children {
		sort.Slice(cs, func(i, j int) bool { return cs[i].StartTimeUnixNano < cs[j].StartTimeUnixNano })
	}
	return tr
}

// find returns the first span named name below (or at) s, depth first.
func (tr *tree) find(s *tracepb.Span, name string) *tracepb.Span {
	if s == nil {
		return nil
	}
	if s.Name == name {
		return s
	}
	for _, c := range tr.children[string(s.SpanId)] {
		if f := tr.find(c, name); f != nil {
			return f
		}
	}
	return nil
}

func (tr *tree) String() string {
	var b strings.Builder
	var walk func(s *tracepb.Span, depth int)
	walk = func(s *tracepb.Span, depth int) {
		took := time.Duration(s.EndTimeUnixNano - s.StartTimeUnixNano)
		fmt.Fprintf(&b, "%s%s  %.2f ms", strings.Repeat("  ", depth), s.Name, float64(took.Microseconds())/1000)
		for _, k := range []string{"graphql.operation.complexity", "seatgraph.loader.keys", "db.response.returned_rows"} {
			if v := attr(s, k); v != nil {
				fmt.Fprintf(&b, "  %s=%v", k, v.GetIntValue())
			}
		}
		b.WriteString("\n")
		for _, c := range tr.children[string(s.SpanId)] {
			walk(c, depth+1)
		}
	}
	if tr.root != nil {
		walk(tr.root, 0)
	}
	return b.String()
}

func attr(s *tracepb.Span, key string) *commonpb.AnyValue {
	if s == nil {
		return nil
	}
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value
		}
	}
	return nil
}

// tracedServer starts a server that exports its traces to an in-process
// OTLP receiver.
func tracedServer(t *testing.T, opts ...apitest.ServerOption) (*apitest.Server, *telemetry.Tracing, *receiver) {
	t.Helper()
	rc := &receiver{}
	otlp := httptest.NewServer(rc)
	t.Cleanup(otlp.Close)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.URL)
	tracing, err := telemetry.TracingFromEnv(t.Context(), os.Getenv)
	if err != nil || tracing == nil {
		t.Fatalf("tracing not set up: %v", err)
	}
	t.Cleanup(func() { _ = tracing.Shutdown(context.Background()) })
	opts = append(opts, func(c *apitest.ServerConfig) { c.HTTP.Tracing = tracing })
	return apitest.NewServer(t, opts...), tracing, rc
}

// TestTracing: with an OTLP endpoint set, a nested query from a gateway
// (W3C traceparent) and a mutation are traced as one tree each under the
// gateway's span: HTTP request → GraphQL operation (name, type,
// complexity) → root field → loader batches → SQL statements (text
// without values, rows), with tenant and request id as attributes, and
// no span per nested field.
func TestTracing(t *testing.T) {
	var logs lockedBuffer
	srv, tracing, rc := tracedServer(t, func(c *apitest.ServerConfig) {
		c.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	tenant := apitest.Tenant("tracing")
	f := apitest.NewFixture(t, srv.DB, tenant)
	people := f.People("traced", 4)
	for i := range 3 {
		f.Assign(f.License(fmt.Sprintf("Traced %d", i), 10), people...)
	}
	spare := f.License("Spare", 5)
	tok := apitest.Token(t, tenant)

	send := func(query string, vars map[string]any, traceID, parentID string) *apitest.Response {
		req := mustRequest(t, http.MethodPost, srv.URL+"/query", jsonBody(query, vars))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
		resp := srv.Send(t, req)
		if resp.Status != http.StatusOK || len(resp.Errors) > 0 {
			t.Fatalf("request failed (%d): %s", resp.Status, resp.Raw)
		}
		return resp
	}
	const gatewaySpan = "00f067aa0ba902b7"
	queryTrace := "4bf92f3577b34da6a3ce929d0e0e4736"
	send(`query Licenses {
	  licenses(first: 3, orderBy: {field: NAME}) {
	    totalCount
	    pageInfo { hasNextPage endCursor }
	    nodes {
	      id name vendor expiresAt
	      seats { total used pending waitlisted available }
	      assignments(first: 5, filter: {status: [ACTIVE, PENDING]}) {
	        nodes { status direct assignee { ... on Person { email } ... on Group { name } } }
	      }
	    }
	  }
	}`, nil, queryTrace, gatewaySpan)
	mutationTrace := "5bf92f3577b34da6a3ce929d0e0e4737"
	send(`mutation Assign($license: ID!, $person: ID!) {
	  assignLicense(input: {licenseId: $license, personId: $person}) { assignment { id status } userErrors { code } }
	}`, map[string]any{"license": gid.License.Format(spare.ID), "person": gid.Person.Format(people[0].ID)},
		mutationTrace, gatewaySpan)
	if err := tracing.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}

	id, _ := hex.DecodeString(queryTrace)
	q := rc.trace(id)
	t.Logf("trace of the nested query:\n%s", q)
	parent, _ := hex.DecodeString(gatewaySpan)
	if q.root == nil || q.root.Name != "POST /query" || !bytes.Equal(q.root.ParentSpanId, parent) {
		t.Fatalf("the query's trace does not hang from the gateway's span: root %v", q.root)
	}
	if attr(q.root, "seatgraph.tenant").GetStringValue() != tenant || attr(q.root, "seatgraph.request_id").GetStringValue() == "" {
		t.Errorf("the HTTP span lacks tenant or request id: %v", q.root.Attributes)
	}
	if a := attr(q.root, "seatgraph.app"); a != nil {
		t.Errorf("a caller of no app got a seatgraph.app attribute %q", a.GetStringValue())
	}
	op := q.find(q.root, "query Licenses")
	if op == nil || attr(op, "graphql.operation.name").GetStringValue() != "Licenses" ||
		attr(op, "graphql.operation.type").GetStringValue() != "query" || attr(op, "graphql.operation.complexity").GetIntValue() <= 0 {
		t.Fatalf("no operation span with name, type and complexity: %v", op)
	}
	field := q.find(op, "Query.licenses")
	batch := q.find(field, "loader Assignments")
	// Under load dataloadgen may cut the three licenses' keys into more
	// than one batch; together the batches carry the three.
	keys := int64(0)
	for _, s := range q.byID {
		if s.Name == "loader Assignments" {
			keys += attr(s, "seatgraph.loader.keys").GetIntValue()
		}
	}
	if field == nil || batch == nil || keys != 3 {
		t.Fatalf("no loader batches of the 3 licenses' assignments below the root field (%d keys):\n%s", keys, q)
	}
	sql := q.find(batch, "sql SELECT")
	stmt := attr(sql, "db.query.text").GetStringValue()
	t.Logf("the batch's statement: %s", stmt)
	if !strings.Contains(stmt, "assignments") || strings.Contains(stmt, tenant) || attr(sql, "db.response.returned_rows") == nil {
		t.Errorf("the batch's SQL span should carry its text without values and its rows: %q", stmt)
	}
	for _, s := range q.byID {
		if strings.HasPrefix(s.Name, "License.") || strings.HasPrefix(s.Name, "Assignment.") {
			t.Errorf("nested field %s has a span of its own", s.Name)
		}
	}

	lines := logs.linesOf(attr(q.root, "seatgraph.request_id").GetStringValue())
	if len(lines) != 1 || lines[0]["trace_id"] != queryTrace {
		t.Errorf("the request's log line should carry its trace id %s: %v", queryTrace, lines)
	}

	id, _ = hex.DecodeString(mutationTrace)
	m := rc.trace(id)
	t.Logf("trace of the mutation:\n%s", m)
	mop := m.find(m.root, "mutation Assign")
	mfield := m.find(mop, "Mutation.assignLicense")
	if mop == nil || mfield == nil || m.find(mfield, "sql INSERT") == nil || m.find(mfield, "sql COMMIT") == nil {
		t.Fatalf("the mutation's trace lacks operation → field → INSERT and COMMIT:\n%s", m)
	}
}
