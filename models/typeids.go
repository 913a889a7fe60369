package models

import "seatgraph/internal/gid"

// The API shows ids as TypeIDs ("lic_01h…"). These methods give gqlgen the
// id fields as plain methods (gqlgen.yml binds the fields to them): a
// field bound to a method without a context resolves in its parent's
// goroutine, while a resolver field runs in a goroutine of its own as
// soon as its object has two, and `id` is asked for nearly everywhere.

// TypeID is the license's id on the API.
func (l *License) TypeID() string { return gid.License.Format(l.ID) }

// TypeID is the assignment's id on the API.
func (a *Assignment) TypeID() string { return gid.Assignment.Format(a.ID) }

// LicenseTypeID is the id of the assignment's license on the API.
func (a *Assignment) LicenseTypeID() string { return gid.License.Format(a.LicenseID) }

// AssigneeTypeID is the id of the assignee (a group or a person) on the
// API; nil for a grant to an email address.
func (a *Assignment) AssigneeTypeID() *string {
	if a.GroupID != nil {
		return gid.Group.FormatPtr(a.GroupID)
	}
	return gid.Person.FormatPtr(a.PersonID)
}

// TypeID is the person's id on the API.
func (p *Person) TypeID() string { return gid.Person.Format(p.ID) }

// TypeID is the group's id on the API.
func (g *Group) TypeID() string { return gid.Group.Format(g.ID) }

// TypeID is the event's id on the API.
func (e *AssignmentEvent) TypeID() string { return gid.Event.Format(e.ID) }

// AssignmentTypeID is the id of the event's assignment on the API.
func (e *AssignmentEvent) AssignmentTypeID() string { return gid.Assignment.Format(e.AssignmentID) }
