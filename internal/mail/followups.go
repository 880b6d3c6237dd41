package mail

import "context"

// FollowUps is reply tracking for one user: what they owe an answer to and
// what they are waiting on others for (Replies), read from their recent
// mail (up to 5,000 messages, every folder, so Sent counts as answers) with
// their own addresses from their accounts.
func (s *Service) FollowUps(ctx context.Context, userID string) (owed, awaiting []ReplyItem, err error) {
	me, _, err := ownSelf(ctx, s.Store, userID)
	if err != nil {
		return nil, nil, err
	}
	ms, err := recentMail(ctx, s.Store, userID, 5000, true)
	if err != nil {
		return nil, nil, err
	}
	for i := range ms {
		if !me.Own(ms[i].From.Email) {
			ms[i].Text = "" // only the user's own questions are read
		}
	}
	r := Replies{Clock: s.Clock, Me: me}
	return r.Owed(ms), r.Awaiting(ms), nil
}
