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
	ms, err := recentMail(ctx, s.Store, userID, 5000)
	if err != nil {
		return nil, nil, err
	}
	r := Replies{Clock: s.Clock, Me: me}
	return r.Owed(ms), r.Awaiting(ms), nil
}
