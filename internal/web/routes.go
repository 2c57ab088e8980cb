package web

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// route is one line of the route table. The OpenAPI document (openapi.json) lists the same
// routes; a test fails when the two disagree.
type route struct {
	method, path string
	handlers     []fiber.Handler
}

// routeTable is the whole HTTP API in one place.
func (s *Server) routeTable() []route {
	signedIn := s.requireAccount
	exports := s.limitExports() // one counter for both formats
	return []route{
		{"GET", "/healthz", h(s.healthz)},
		{"GET", "/readyz", h(s.readyz)},
		{"GET", "/api/v1/openapi.json", h(s.openapi)},

		{"POST", "/api/v1/auth/register", h(s.limitRegister(), s.register)},
		{"POST", "/api/v1/auth/login", h(s.limitLoginByAddress(), s.limitLoginByAccount(), s.login)},
		{"POST", "/api/v1/auth/logout", h(signedIn, s.logout)},
		{"POST", "/api/v1/auth/password-reset", h(s.limitMail(), s.requestReset)},
		{"POST", "/api/v1/auth/password-reset/confirm", h(s.limitTokens(), s.confirmReset)},
		{"POST", "/api/v1/auth/email/confirm", h(s.limitTokens(), s.confirmEmail)},

		{"GET", "/api/v1/me", h(signedIn, s.me)},
		{"PATCH", "/api/v1/me", h(signedIn, s.updateMe)},
		{"DELETE", "/api/v1/me", h(signedIn, s.deleteMe)},
		{"POST", "/api/v1/me/password", h(signedIn, s.changePassword)},
		{"POST", "/api/v1/me/email/confirmation", h(signedIn, s.limitMail(), s.resendConfirmation)},
		{"GET", "/api/v1/me/export", h(signedIn, s.exportMe)},
		{"GET", "/api/v1/me/memberships", h(signedIn, s.myMemberships)},
		{"GET", "/api/v1/me/invitations", h(signedIn, s.myInvitations)},
		{"GET", "/api/v1/me/notifications", h(signedIn, s.notifications)},
		{"POST", "/api/v1/me/notifications/read", h(signedIn, s.readNotifications)},

		{"POST", "/api/v1/invitations/accept", h(signedIn, s.limitTokens(), s.acceptInvitationToken)},
		{"POST", "/api/v1/invitations/:id/accept", h(signedIn, s.acceptInvitation)},
		{"POST", "/api/v1/invitations/:id/decline", h(signedIn, s.declineInvitation)},

		{"GET", "/api/v1/organisations", h(s.organisations)},
		{"POST", "/api/v1/organisations", h(signedIn, s.createOrganisation)},
		{"GET", "/api/v1/organisations/:id", h(s.organisation)},
		{"PATCH", "/api/v1/organisations/:id", h(signedIn, s.updateOrganisation)},
		{"GET", "/api/v1/organisations/:id/invitations", h(signedIn, s.orgInvitations)},
		{"POST", "/api/v1/organisations/:id/invitations", h(signedIn, s.limitMail(), s.invite)},
		{"DELETE", "/api/v1/organisations/:id/invitations/:invitationId", h(signedIn, s.revokeInvitation)},
		{"PATCH", "/api/v1/organisations/:id/members/:accountId", h(signedIn, s.updateMember)},
		{"DELETE", "/api/v1/organisations/:id/members/:accountId", h(signedIn, s.removeMember)},

		{"GET", "/api/v1/forums", h(s.forums)},
		{"POST", "/api/v1/forums", h(signedIn, s.createForum)},
		{"GET", "/api/v1/forums/:id", h(s.forum)},
		{"PATCH", "/api/v1/forums/:id", h(signedIn, s.updateForum)},
		{"GET", "/api/v1/forums/:id/proposals", h(s.proposals)},
		{"POST", "/api/v1/forums/:id/proposals", h(signedIn, s.limitPerAccount("proposal", proposalsPerHour, time.Hour), s.createProposal)},
		{"GET", "/api/v1/proposals/:id", h(s.proposal)},
		{"PATCH", "/api/v1/proposals/:id", h(signedIn, s.updateProposal)},
		{"PUT", "/api/v1/proposals/:id/support", h(signedIn, s.limitPerAccount("support", togglesPerHour, time.Hour), s.support)},
		{"DELETE", "/api/v1/proposals/:id/support", h(signedIn, s.limitPerAccount("support", togglesPerHour, time.Hour), s.unsupport)},
		{"PUT", "/api/v1/proposals/:id/follow", h(signedIn, s.limitPerAccount("follow", togglesPerHour, time.Hour), s.follow)},
		{"DELETE", "/api/v1/proposals/:id/follow", h(signedIn, s.limitPerAccount("follow", togglesPerHour, time.Hour), s.follow)},
		{"GET", "/api/v1/proposals/:id/comments", h(s.comments)},
		{"POST", "/api/v1/proposals/:id/comments", h(signedIn, s.limitPerAccount("comment", commentsPerHour, time.Hour), s.addComment)},
		{"PATCH", "/api/v1/comments/:id", h(signedIn, s.limitPerAccount("comment", commentsPerHour, time.Hour), s.editComment)},
		{"DELETE", "/api/v1/comments/:id", h(signedIn, s.deleteComment)},
		{"POST", "/api/v1/proposals/:id/answers", h(signedIn, s.answer)},
		{"GET", "/api/v1/proposals/:id/timeline", h(s.timeline)},
		{"GET", "/api/v1/forums/:id/overdue", h(s.overdue)},
		{"GET", "/api/v1/forums/:id/export.json", h(exports, s.exportJSON)},
		{"GET", "/api/v1/forums/:id/export.csv", h(exports, s.exportCSV)},
		{"POST", "/api/v1/proposals/:id/translations", h(signedIn, s.limitPerAccount("translation", commentsPerHour, time.Hour), s.translate)},
		{"GET", "/api/v1/forums/:id/mediators", h(signedIn, s.mediators)},
		{"POST", "/api/v1/forums/:id/mediators", h(signedIn, s.addMediator)},
		{"DELETE", "/api/v1/forums/:id/mediators/:accountId", h(signedIn, s.removeMediator)},

		{"POST", "/api/v1/reports", h(signedIn, s.limitPerAccount("report", reportsPerHour, time.Hour), s.report)},
		{"GET", "/api/v1/forums/:id/moderation", h(signedIn, s.moderationQueue)},
		{"GET", "/api/v1/moderation/:id", h(signedIn, s.moderationCase)},
		{"POST", "/api/v1/moderation/:id/decision", h(signedIn, s.moderate)},
		{"POST", "/api/v1/moderation/:id/appeal", h(signedIn, s.limitPerAccount("appeal", reportsPerHour, time.Hour), s.appeal)},
		{"GET", "/api/v1/admin/appeals", h(signedIn, s.appeals)},
		{"GET", "/api/v1/admin/audit", h(signedIn, s.auditLog)},

		{"POST", "/api/v1/admin/organisations/:id/verify", h(signedIn, s.verifyOrganisation)},
		{"GET", "/api/v1/admin/accounts", h(signedIn, s.adminAccounts)},
		{"POST", "/api/v1/admin/accounts/:id/suspend", h(signedIn, s.suspendAccount)},
		{"GET", "/api/v1/admin/outbox", h(signedIn, s.adminOutbox)},
		{"POST", "/api/v1/dev/clock", h(signedIn, s.advanceClock)},

		{"GET", "/api/v1/forums/:id/sessions", h(s.sessions)},
		{"POST", "/api/v1/forums/:id/sessions", h(signedIn, s.createSession)},
		{"GET", "/api/v1/sessions/:id", h(s.session)},
		{"PATCH", "/api/v1/sessions/:id", h(signedIn, s.updateSession)},
		{"POST", "/api/v1/sessions/:id/actions", append(s.limitLiveActions(), s.sessionAction)},
		{"GET", "/api/v1/sessions/:id/minutes.md", h(s.minutesMarkdown)},
		{"GET", "/api/v1/sessions/:id/minutes.html", h(s.minutesHTML)},
		{"POST", "/api/v1/join", append(s.limitJoins(), s.join)},

		{"GET", "/api/v1/forums/:id/facilitators", h(signedIn, s.facilitators)},
		{"POST", "/api/v1/forums/:id/facilitators", h(signedIn, s.addFacilitator)},
		{"DELETE", "/api/v1/forums/:id/facilitators/:accountId", h(signedIn, s.removeFacilitator)},
		{"GET", "/api/v1/forums/:id/workshops", h(s.workshops)},
		{"POST", "/api/v1/forums/:id/workshops", h(signedIn, s.createWorkshop)},
		{"GET", "/api/v1/workshops/:id", h(s.workshop)},
		{"PATCH", "/api/v1/workshops/:id", h(signedIn, s.updateWorkshop)},
		{"POST", "/api/v1/workshops/:id/actions", append(s.limitLiveActions(), s.workshopAction)},
		{"POST", "/api/v1/workshops/:id/proposals", h(signedIn, s.limitPerAccount("proposal", proposalsPerHour, time.Hour), s.workshopProposal)},
		{"GET", "/api/v1/workshops/:id/export.md", h(s.workshopMarkdown)},
		{"GET", "/api/v1/workshops/:id/export.csv", h(s.workshopCSV)},
		{"GET", "/api/v1/workshops/:id/export.json", h(s.workshopJSON)},
		{"GET", "/api/v1/workshops/:id/export.html", h(s.workshopHTML)},

		{"GET", "/ws", h(s.wsUpgrade())},
	}
}

func h(hs ...fiber.Handler) []fiber.Handler { return hs }

// rendered writes a handler's error as the response at once, so the middleware before it (the
// rate limiters that count failures, the metrics) sees the real status.
func (s *Server) rendered(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := h(c); err != nil {
			return s.errorHandler(c, err)
		}
		return nil
	}
}

func (s *Server) routes() {
	s.fiber.Use(s.authenticate)
	for _, r := range s.routeTable() {
		hs := make([]fiber.Handler, len(r.handlers))
		for i, h := range r.handlers {
			hs[i] = s.rendered(h)
		}
		s.fiber.Add(r.method, r.path, hs...)
	}
	// Unknown API paths are JSON 404s; every other GET is the single-page app.
	s.fiber.All("/api/*", func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	s.fiber.Get("/assets/*", s.asset)
	s.fiber.Get("/*", s.index)
}

// Rate limits. A whole hall may share one address, so limits per account or token come first
// and limits per address are generous.
const (
	loginAccountLimit  = 10 // failed sign-ins per account per 15 minutes
	loginAccountWindow = 15 * time.Minute
	proposalsPerHour   = 10  // proposals one person may post per hour
	commentsPerHour    = 60  // comments one person may post per hour
	reportsPerHour     = 60  // reports one person may file per hour
	togglesPerHour     = 300 // supports and follows one person may change per hour
	// Join codes: a hall of a thousand people may share one address; guessing a code among
	// 31^10 at these rates takes longer than any session lasts.
	joinFailuresPerAddress = 100
	joinFailuresEverywhere = 1000
	joinsPerAddress        = 3000
	liveActionsPerMinute   = 1200
	liveActionsPerPerson   = 600 // live messages over HTTP per person a minute (10 a second)
	exportsPerHour         = 120 // open-data downloads (JSON and CSV together) per client address per hour (a town hall may share one)
)
