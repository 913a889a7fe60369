package economics

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"seatgraph/internal/gid"
	"seatgraph/internal/licensing"
	"seatgraph/internal/opt"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// ExportPage is how many assignments the export reads per statement.
const ExportPage = 1000

// ExportColumns are the columns of GET /export/assignments.csv, in order
// (README "Seat economics" describes each). Ids are the API's TypeIDs,
// times RFC 3339 in UTC, booleans true/false, absent values empty.
var ExportColumns = []string{"id", "license_id", "license_name", "program_key", "assignee_type", "assignee_id",
	"email", "username", "name", "status", "active", "fulfilled", "direct", "via_group_id", "via_assignment_id",
	"asset_id", "assigned_at", "assigned_by", "expires_at", "last_used_at", "revoked_at", "revoked_by",
	"revoke_reason", "source", "source_type", "created_at", "updated_at", "deleted"}

// exportRow is an assignment with its person's contact fields.
type exportRow struct {
	models.Assignment `bun:",extend"`
	PersonEmail       *string `bun:"person_email"`
	PersonUsername    *string `bun:"person_username"`
	PersonName        *string `bun:"person_name"`
}

// ExportAssignments writes, as CSV (RFC 4180) to w, a header and every
// assignment matching f that the tenant scope t may read, in id order. It
// reads ExportPage rows at a time by a keyset on the id, each page in a
// short read transaction of its own, and calls flushed after each page, so
// memory stays flat however many rows there are and no transaction stays
// open for the whole download (a row changed meanwhile shows as its page
// read it). Nothing is written when the first page fails (a bad filter);
// a failure later leaves the output short, and is returned.
func ExportAssignments(ctx context.Context, db *store.DB, t store.Tenant, f *licensing.AssignmentFilter,
	w io.Writer, flushed func() error) (int, error) {
	list := licensing.AssignmentList(f, nil)
	cw := csv.NewWriter(w)
	rec := make([]string, len(ExportColumns))
	var after uuid.UUID
	n := 0
	for page := 0; ; page++ {
		var rows []exportRow
		sess := db.Session(ctx, t)
		err := sess.Read(ctx, func(s store.Scope) error {
			q, err := list.Build(s)
			if err != nil {
				return err
			}
			person := s.Select((*models.Person)(nil)).
				ColumnExpr("p.email AS person_email, p.username AS person_username, p.name AS person_name").
				Where("p.id = a.person_id")
			q = q.Join("LEFT JOIN LATERAL (?) AS pp ON true", person).ColumnExpr("pp.*")
			if page > 0 {
				q = q.Where("a.id > ?", after)
			}
			return q.OrderExpr("a.id").Limit(ExportPage).Scan(ctx, &rows)
		})
		err = errors.Join(err, sess.Close())
		if err != nil {
			return n, err
		}
		if page == 0 {
			if err := cw.Write(ExportColumns); err != nil {
				return n, err
			}
		}
		now := time.Now()
		for i := range rows {
			exportRecord(rec, &rows[i], now)
			if err := cw.Write(rec); err != nil {
				return n, err
			}
		}
		n += len(rows)
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, err
		}
		if err := flushed(); err != nil {
			return n, err
		}
		if len(rows) < ExportPage {
			return n, nil
		}
		after = rows[len(rows)-1].ID
	}
}

// exportRecord fills rec with r's cells, in ExportColumns order.
func exportRecord(rec []string, r *exportRow, now time.Time) {
	a := &r.Assignment
	email, username, name := a.Email, r.PersonUsername, r.PersonName
	if email == nil {
		email = r.PersonEmail
	}
	assignee := gid.Person.FormatPtr(a.PersonID)
	if a.GroupID != nil {
		assignee = gid.Group.FormatPtr(a.GroupID)
	}
	cells := []string{gid.Assignment.Format(a.ID), gid.License.Format(a.LicenseID), a.LicenseName, str(a.ProgramKey),
		string(a.AssigneeType()), str(assignee), str(email), str(username), str(name),
		string(licensing.Status(a, now)), strconv.FormatBool(a.Active), strconv.FormatBool(a.Fulfilled),
		strconv.FormatBool(a.ViaAssignmentID == nil), str(gid.Group.FormatPtr(a.ViaGroupID)),
		str(gid.Assignment.FormatPtr(a.ViaAssignmentID)), str(a.AssetID), stamp(&a.AssignedAt), a.AssignedBy,
		stamp(a.ExpiresAt), stamp(a.LastUsedAt), stamp(a.RevokedAt), str(a.RevokedBy), str(a.RevokeReason),
		a.Source, string(a.SourceType), stamp(&a.CreatedAt), stamp(&a.UpdatedAt), strconv.FormatBool(a.IsDeleted)}
	for i, c := range cells {
		rec[i] = Cell(c)
	}
}

// Cell makes a value safe to open in a spreadsheet: a value starting with
// a character that makes Excel, LibreOffice or Google Sheets read it as a
// formula (= + - @) or that they strip before doing so (tab, carriage
// return) gets a leading apostrophe, so it is shown as the text it is.
// Quoting for RFC 4180 is encoding/csv's job.
func Cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func str(s *string) string { return opt.Or(s, "") }

func stamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// ExportFilter reads the export's query parameters: the fields of
// AssignmentFilter by the same names. Lists (licenseIds, assigneeIds,
// status) are repeated or comma-separated; booleans are true or false;
// times RFC 3339. An unknown or repeated single parameter is refused, so a
// typo never exports more than was asked for.
func ExportFilter(v url.Values) (*licensing.AssignmentFilter, error) {
	f := &licensing.AssignmentFilter{}
	var bad []string
	list := func(name string) []string {
		var out []string
		for _, s := range v[name] {
			out = append(out, strings.Split(s, ",")...)
		}
		return out
	}
	one := func(name string) *string {
		switch vals := v[name]; len(vals) {
		case 0:
			return nil
		case 1:
			return &vals[0]
		}
		bad = append(bad, fmt.Sprintf("%s: give it once", name))
		return nil
	}
	boolean := func(name string) *bool {
		s := one(name)
		if s == nil {
			return nil
		}
		b, err := strconv.ParseBool(*s)
		if err != nil || (*s != "true" && *s != "false") {
			bad = append(bad, fmt.Sprintf("%s: %q is not true or false", name, *s))
			return nil
		}
		return &b
	}
	instant := func(name string) *time.Time {
		s := one(name)
		if s == nil {
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, *s)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %q is not an RFC 3339 time", name, *s))
			return nil
		}
		return &t
	}
	known := []string{"licenseIds", "assigneeIds", "assigneeType", "email", "status", "active", "fulfilled", "direct",
		"viaGroupId", "assetId", "assignedAfter", "assignedBefore", "expiresAfter", "expiresBefore", "lastUsedBefore",
		"neverUsed", "includeDeleted"}
	for name := range v {
		if !slices.Contains(known, name) {
			bad = append(bad, fmt.Sprintf("%s: not a filter (known: %s)", name, strings.Join(known, ", ")))
		}
	}
	if v.Has("licenseIds") {
		f.LicenseIDs = list("licenseIds")
	}
	if v.Has("assigneeIds") {
		f.AssigneeIDs = list("assigneeIds")
	}
	if s := one("assigneeType"); s != nil {
		var t models.AssigneeType
		if err := t.UnmarshalGQL(*s); err != nil {
			bad = append(bad, fmt.Sprintf("assigneeType: %q is not PERSON, GROUP or EMAIL", *s))
		}
		f.AssigneeType = &t
	}
	if v.Has("status") {
		f.Status = []models.Status{}
		for _, s := range list("status") {
			var st models.Status
			if err := st.UnmarshalGQL(s); err != nil {
				bad = append(bad, fmt.Sprintf("status: %q is not an assignment status", s))
			}
			f.Status = append(f.Status, st)
		}
	}
	f.Email, f.ViaGroupID, f.AssetID = one("email"), one("viaGroupId"), one("assetId")
	f.Active, f.Fulfilled, f.Direct = boolean("active"), boolean("fulfilled"), boolean("direct")
	f.NeverUsed, f.IncludeDeleted = boolean("neverUsed"), boolean("includeDeleted")
	f.AssignedAfter, f.AssignedBefore = instant("assignedAfter"), instant("assignedBefore")
	f.ExpiresAfter, f.ExpiresBefore = instant("expiresAfter"), instant("expiresBefore")
	f.LastUsedBefore = instant("lastUsedBefore")
	for _, s := range []*string{f.Email, f.ViaGroupID, f.AssetID} {
		if s != nil && strings.ContainsRune(*s, 0) {
			bad = append(bad, "a value contains a NUL character")
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return nil, problem.New(problem.Invalid, "", "%s", strings.Join(bad, "; "))
	}
	return f, nil
}
