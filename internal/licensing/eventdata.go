package licensing

import (
	"encoding/json"
	"reflect"
	"time"

	"seatgraph/internal/gid"
	"seatgraph/models"
)

// This file renders records as the API shows them, for the "object" of an
// outbox event's data: the field names and values a GraphQL client reads
// (TypeIDs, not uuids; seats as the Seats object), without the fields that
// are other records (which a consumer reads by id).

// view is a record as the API shows it.
type view map[string]any

func recordView(k gid.Kind, r *models.Record) view {
	return view{
		"id": k.Format(r.ID), "tenantId": r.TenantID, "appId": r.AppID,
		"createdAt": r.CreatedAt, "updatedAt": r.UpdatedAt, "createdBy": r.CreatedBy, "updatedBy": r.UpdatedBy,
		"source": r.Source, "sourceType": r.SourceType, "isDeleted": r.IsDeleted,
		"deletedAt": r.DeletedAt, "deletedBy": r.DeletedBy, "schemaVersion": r.SchemaVersion,
	}
}

// licenseView is a license with its seats, at now.
func licenseView(l *models.License, now time.Time) view {
	v := recordView(gid.License, &l.Record)
	v["__typename"] = "License"
	v["name"], v["vendor"], v["programKey"] = l.Name, l.Vendor, l.ProgramKey
	v["totalSeats"], v["startsAt"], v["expiresAt"], v["expired"] = l.TotalSeats, l.StartsAt, l.ExpiresAt, Expired(l, now)
	v["assetId"], v["metadata"], v["lowSeatsThreshold"] = l.AssetID, nonNilMap(l.Metadata), l.LowSeatsThreshold
	v["seats"] = map[string]any{"total": l.TotalSeats, "used": l.SeatsUsed, "pending": l.SeatsPending,
		"waitlisted": l.SeatsWaitlisted, "available": l.Free()}
	return v
}

func personView(p *models.Person) view {
	v := recordView(gid.Person, &p.Record)
	v["__typename"] = "Person"
	v["email"], v["username"], v["name"], v["externalId"], v["active"] = p.Email, p.Username, p.Name, p.ExternalID, p.Active
	return v
}

func groupView(g *models.Group) view {
	v := recordView(gid.Group, &g.Record)
	v["__typename"] = "Group"
	v["name"], v["description"] = g.Name, g.Description
	return v
}

// assignmentView is an assignment (read with its license's columns) at now.
func assignmentView(a *models.Assignment, now time.Time) view {
	v := recordView(gid.Assignment, &a.Record)
	v["__typename"] = "Assignment"
	v["licenseId"], v["licenseName"], v["programKey"] = gid.License.Format(a.LicenseID), a.LicenseName, a.ProgramKey
	switch {
	case a.PersonID != nil:
		v["assigneeType"], v["assigneeId"] = models.AssigneePerson, gid.Person.Format(*a.PersonID)
	case a.GroupID != nil:
		v["assigneeType"], v["assigneeId"] = models.AssigneeGroup, gid.Group.Format(*a.GroupID)
	default:
		v["assigneeType"], v["assigneeId"] = models.AssigneeEmail, nil
	}
	v["email"] = a.Email
	v["assetId"], v["assignedAt"], v["expiresAt"] = a.AssetID, a.AssignedAt, a.ExpiresAt
	v["status"], v["active"], v["fulfilled"] = Status(a, now), a.Active, a.Fulfilled
	v["direct"], v["viaGroupId"], v["viaAssignmentId"] = a.ViaAssignmentID == nil,
		gid.Group.FormatPtr(a.ViaGroupID), gid.Assignment.FormatPtr(a.ViaAssignmentID)
	v["redirectTo"], v["metadata"], v["lastUsedAt"] = a.RedirectTo, nonNilMap(a.Metadata), a.LastUsedAt
	v["revokedAt"], v["revokedBy"], v["revokeReason"] = a.RevokedAt, a.RevokedBy, a.RevokeReason
	return v
}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// diff returns, for every field whose value differs between before and
// after (the update stamps aside), the old and the new value.
func diff(before, after view) (previous, changes map[string]any) {
	previous, changes = map[string]any{}, map[string]any{}
	for k, a := range after {
		if k == "updatedAt" || k == "updatedBy" {
			continue
		}
		if b := before[k]; !sameJSON(a, b) {
			previous[k], changes[k] = b, a
		}
	}
	return previous, changes
}

// sameJSON compares two values as they would be serialised.
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	if errA != nil || errB != nil {
		return reflect.DeepEqual(a, b)
	}
	return string(ja) == string(jb)
}
