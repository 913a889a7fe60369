package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"seatgraph/internal/auth"
	"seatgraph/internal/codes"
	"seatgraph/internal/economics"
	"seatgraph/internal/logging"
	"seatgraph/internal/opt"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/internal/telemetry"
)

// exportAssignments serves GET /export/assignments.csv: the caller's
// assignments (filters as query parameters, economics.ExportFilter) as
// CSV, streamed page by page. It asks what /query asks of Query.assignments:
// credentials (401), the licenses:read scope and admin for includeDeleted
// (403); a bad filter is 400. Each page moves the write deadline on by
// pageTime, so a long download is bounded per page, not as a whole.
func exportAssignments(db *store.DB, pageTime time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		p := auth.FromContext(ctx)
		if p == nil {
			unauthenticated(w, `authentication required: send "Authorization: Bearer <token>" or "Authorization: ApiKey <key>"`)
			return
		}
		f, err := economics.ExportFilter(r.URL.Query())
		var bad *problem.Error
		switch {
		case !p.Has(auth.ScopeLicensesRead):
			exportError(w, r, http.StatusForbidden, codes.Forbidden, fmt.Sprintf("missing scope %q", auth.ScopeLicensesRead))
			return
		case errors.As(err, &bad):
			exportError(w, r, http.StatusBadRequest, codes.BadUserInput, bad.Error())
			return
		case opt.True(f.IncludeDeleted) && !p.Has(auth.ScopeAdmin):
			exportError(w, r, http.StatusForbidden, codes.Forbidden, "includeDeleted needs the admin scope")
			return
		}
		rc := http.NewResponseController(w)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="assignments.csv"`)
		started := false
		n, err := economics.ExportAssignments(ctx, db, store.Tenant{ID: p.TenantID, AppID: p.AppID}, f, w, func() error {
			started = true
			_ = rc.SetWriteDeadline(time.Now().Add(pageTime))
			return rc.Flush()
		})
		switch {
		case err == nil:
		case !started && errors.As(err, &bad):
			exportError(w, r, http.StatusBadRequest, codes.BadUserInput, bad.Error())
		case !started:
			logging.From(ctx).ErrorContext(ctx, "export failed", "error", err.Error())
			exportError(w, r, http.StatusInternalServerError, codes.Internal, "internal server error")
		default:
			// The header and some rows are out: end the response abruptly,
			// so the client sees a broken download, never a short file that
			// looks whole.
			logging.From(ctx).ErrorContext(ctx, "export failed midway", "error", err.Error(), "rows", n)
			panic(http.ErrAbortHandler)
		}
	}
}

func exportError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	w.Header().Del("Content-Disposition")
	telemetry.From(r.Context()).AddError(code)
	writeJSON(w, status, map[string]any{"errors": []map[string]any{{"message": msg, "extensions": map[string]string{"code": code}}}})
}
