package books

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strings"
)

// Chapter is a part of a built EPUB as the page previews it: plain text.
type Chapter struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

// previewLimit bounds what one preview reads of a chapter.
const previewLimit = 1 << 20

// PreviewEPUB reads the first n documents of an EPUB's reading order (its
// OPF spine) as plain text, so the page can show what was built. It reads
// only the file given; nothing is fetched.
func PreviewEPUB(data []byte, n int) ([]Chapter, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("the EPUB is not a zip: %w", err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	var container struct {
		Rootfiles []struct {
			Path string `xml:"full-path,attr"`
		} `xml:"rootfiles>rootfile"`
	}
	if err := readXML(files, "META-INF/container.xml", &container); err != nil || len(container.Rootfiles) == 0 {
		return nil, fmt.Errorf("the EPUB has no readable META-INF/container.xml: %v", err)
	}
	opfPath := container.Rootfiles[0].Path
	var opf struct {
		Items []struct {
			ID   string `xml:"id,attr"`
			Href string `xml:"href,attr"`
		} `xml:"manifest>item"`
		Spine []struct {
			IDRef string `xml:"idref,attr"`
		} `xml:"spine>itemref"`
	}
	if err := readXML(files, opfPath, &opf); err != nil {
		return nil, fmt.Errorf("the EPUB's package document: %w", err)
	}
	hrefs := map[string]string{}
	for _, it := range opf.Items {
		hrefs[it.ID] = path.Join(path.Dir(opfPath), it.Href)
	}
	var out []Chapter
	for _, ref := range opf.Spine {
		if len(out) == n {
			break
		}
		f, ok := files[hrefs[ref.IDRef]]
		if !ok {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(rc, previewLimit))
		rc.Close()
		if err != nil {
			return nil, err
		}
		title, text := xhtmlText(b)
		out = append(out, Chapter{Title: title, Text: text})
	}
	return out, nil
}

func readXML(files map[string]*zip.File, name string, v any) error {
	f, ok := files[name]
	if !ok {
		return fmt.Errorf("%s is missing", name)
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return xml.NewDecoder(io.LimitReader(rc, previewLimit)).Decode(v)
}

// xhtmlText is a chapter's <title> and its body's text, a line per block.
func xhtmlText(b []byte) (title, text string) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	var sb, tb strings.Builder
	inBody, inTitle := false, false
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "body":
				inBody = true
			case "title":
				inTitle = true
			case "p", "h1", "h2", "h3", "div", "br", "li", "blockquote":
				if inBody {
					sb.WriteString("\n")
				}
			}
		case xml.EndElement:
			if t.Name.Local == "title" {
				inTitle = false
			}
		case xml.CharData:
			if inTitle {
				tb.Write(t)
			} else if inBody {
				sb.Write(t)
			}
		}
	}
	lines := strings.Split(sb.String(), "\n")
	var keep []string
	for _, l := range lines {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			keep = append(keep, l)
		}
	}
	return strings.TrimSpace(tb.String()), strings.Join(keep, "\n")
}
