package insieme

import "testing"

// Every pair of phases: a workshop moves forward only (skipping is allowed), never back or
// in place, and closed is final; a refusal is a conflict naming both phases.
func TestWorkshopPhasesMoveForwardOnly(t *testing.T) {
	phases := []string{PhaseLobby, PhaseBrainstorm, PhaseReveal, PhaseCluster, PhaseVote, PhasePlan, PhaseClosed}
	for i, from := range phases {
		for j, to := range phases {
			w := &Workshop{Phase: from}
			err := w.CheckMove(to)
			if j > i {
				if err != nil {
					t.Errorf("%s → %s refused: %v", from, to, err)
				}
				continue
			}
			var e *Error
			if ErrorCode(err) != ECONFLICT || !errorsAs(err, &e) || e.Fields["phase"] != from || e.Fields["to"] != to {
				t.Errorf("%s → %s: %v, want a conflict naming both phases", from, to, err)
			}
		}
	}
	if ErrorCode((&Workshop{Phase: PhaseLobby}).CheckMove("party")) != EINVALID {
		t.Error("an unknown phase is not refused as invalid")
	}
}

func errorsAs(err error, e **Error) bool {
	x, ok := err.(*Error)
	*e = x
	return ok
}

// The table of docs/WORKSHOPS.md: which actions each phase allows.
func TestPhaseAllowsFollowsTheDesign(t *testing.T) {
	allowed := map[string][]string{
		ActCardCreate:    {PhaseBrainstorm},
		ActCardEdit:      {PhaseBrainstorm, PhaseReveal},
		ActCardMove:      {PhaseReveal, PhaseCluster},
		ActCardHide:      {PhaseReveal, PhaseCluster, PhaseVote, PhasePlan},
		ActClusterCreate: {PhaseCluster},
		ActClusterEdit:   {PhaseCluster},
		ActDotAdd:        {PhaseVote},
		ActDotRemove:     {PhaseVote},
		ActActionCreate:  {PhasePlan},
		ActActionEdit:    {PhasePlan},
		ActActionStatus:  {PhasePlan, PhaseClosed},
		ActProposal:      {PhasePlan, PhaseClosed},
	}
	phases := []string{PhaseLobby, PhaseBrainstorm, PhaseReveal, PhaseCluster, PhaseVote, PhasePlan, PhaseClosed}
	for action, ok := range allowed {
		for _, ph := range phases {
			want := false
			for _, o := range ok {
				want = want || o == ph
			}
			if got := PhaseAllows(action, ph); got != want {
				t.Errorf("%s in %s: %v, want %v", action, ph, got, want)
			}
		}
	}
}
