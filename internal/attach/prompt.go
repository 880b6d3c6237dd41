package attach

import (
	"strings"

	"github.com/os1ai/os1/internal/llm"
)

// Quote is a text file as the model reads it: its name, then its content
// in a fenced block whose fence is longer than any run of backticks inside.
func Quote(name string, text []byte) string {
	s := strings.TrimPrefix(string(text), "\ufeff")
	fence := "```"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return "File " + name + ":\n" + fence + "\n" + s + fence
}

// ImageNote stands for an image in the text of a message: the model knows
// it was there even when the picture itself is left out of the prompt.
func ImageNote(name string) string { return "[Image attached: " + name + "]" }

// ForModel is a user message with its attachments as the model sees it:
// each text file quoted after the text, each image named; the images
// themselves are returned for the message's image parts when withImages.
// atts must carry their data.
func ForModel(text string, atts []Attachment, withImages bool) (string, []llm.Image) {
	var b strings.Builder
	b.WriteString(text)
	var images []llm.Image
	for _, a := range atts {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		if a.IsImage() {
			b.WriteString(ImageNote(a.Name))
			if withImages {
				images = append(images, llm.Image{MIME: a.MIME, Data: a.Data})
			}
			continue
		}
		b.WriteString(Quote(a.Name, a.Data))
	}
	return b.String(), images
}
