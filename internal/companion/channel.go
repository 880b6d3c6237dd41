package companion

import (
	"strings"

	"github.com/os1ai/os1/internal/attach"
	"github.com/os1ai/os1/internal/store"
)

// SendOptions tune one Send.
type SendOptions struct {
	// Channel is where the turn happens: store.ChannelVoice for words
	// spoken on a call (or by os1 talk), "" for typed chat. A voice turn
	// asks the model for the spoken register (short sentences, no markup,
	// numbers said aloud), and both the user's message and the reply are
	// stored with this channel.
	Channel string
	// Files are attachments sent with the message (attachments.go): checked
	// before anything is stored, then stored with it in one transaction.
	Files []attach.Upload
}

func sendOptions(opts []SendOptions) SendOptions {
	if len(opts) == 0 {
		return SendOptions{}
	}
	return opts[len(opts)-1]
}

// IsSpokenRegister reports whether a system prompt asked for the spoken
// register of a voice turn (for tests and diagnostics that see only the
// request a model received).
func IsSpokenRegister(system string) bool {
	return strings.Contains(system, voiceRegister)
}

// validChannel keeps unknown channel names out of the store.
func validChannel(ch string) string {
	if ch == store.ChannelVoice {
		return ch
	}
	return ""
}
