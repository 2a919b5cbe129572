package config

import "strings"

// Limits of coroparse.c's reader.
const (
	// keyNameMax is ICMAP_KEYNAME_MAXLEN: a section or key whose full dotted name would
	// reach it is an error.
	keyNameMax = 255
	// lineBufBytes is the fgets buffer: a line (newline included) must fit in one less.
	lineBufBytes = 512
)

// handler receives what the reader finds. Each callback returns "" or the message of the
// error that stops the parse. st is the state of the section the event belongs to; a
// section start may change the state its items will see.
type handler interface {
	sectionStart(path string, st *pstate, line int) string
	item(path, key, value string, st *pstate, line int) string
	sectionEnd(path string, st *pstate, line int) string
}

// frame is an open section.
type frame struct {
	path string
	st   pstate
}

// readSections reads data with coroparse.c's parse_section rules and reports sections and
// items to h. name is used in errors.
//
// The rules, in the order corosync applies them to each line: a line is read as fgets
// reads into a 512-byte buffer (a longer line is "Line too long"; a NUL ends the text of a
// line); one trailing "\n" and then one "\r" are removed, then trailing spaces and tabs; a
// line whose first non-blank character is '#', or that is blank, is skipped; a line holding
// '{' anywhere opens a section; otherwise a line holding ':' is a key and value (split at
// the first ':'); otherwise a line holding '}' closes a section; anything else is an error.
func readSections(name string, data []byte, h handler) *ParseError {
	stack := []frame{{path: "", st: stateNormal}}
	line := 0
	fail := func(msg string) *ParseError { return &ParseError{File: name, Line: line, Msg: msg} }
	for pos := 0; pos < len(data); {
		end := pos
		for end < len(data) && end-pos < lineBufBytes-1 {
			end++
			if data[end-1] == '\n' {
				break
			}
		}
		chunk := data[pos:end]
		pos = end
		// corosync counts fgets calls, so a line longer than the buffer counts twice when a
		// NUL at its start hides the first part; count real lines instead.
		if pos-len(chunk) == 0 || data[pos-len(chunk)-1] == '\n' {
			line++
		}
		// fgets stops short of a full buffer without a newline only at the end of the file.
		atEOF := chunk[len(chunk)-1] != '\n' && len(chunk) < lineBufBytes-1
		text := string(chunk)
		if i := strings.IndexByte(text, 0); i >= 0 {
			text = text[:i]
		}
		if text != "" {
			if text[len(text)-1] != '\n' && !atEOF {
				return fail("Line too long")
			}
			text = strings.TrimSuffix(text, "\n")
			text = strings.TrimSuffix(text, "\r")
		}
		text = strings.TrimRight(text, " \t")
		if t := strings.TrimLeft(text, " \t"); t == "" || t[0] == '#' {
			continue
		}
		top := &stack[len(stack)-1]
		if i := strings.IndexByte(text, '{'); i >= 0 {
			head, rest := splitAt(text, i)
			section := removeWhitespace(head, true)
			if section == "" {
				return fail("Missing section name before opening bracket '{'")
			}
			if rest != "" {
				return fail("Extra characters after opening bracket '{'")
			}
			if len(top.path)+len(section)+1 >= keyNameMax {
				return fail("Start of section makes total cmap path too long")
			}
			path := joinPath(top.path, section)
			st := top.st
			if msg := h.sectionStart(path, &st, line); msg != "" {
				return fail(msg)
			}
			stack = append(stack, frame{path: path, st: st})
			continue
		}
		if i := strings.IndexByte(text, ':'); i >= 0 {
			head, value := splitAt(text, i)
			key := removeWhitespace(head, true)
			if len(top.path)+len(key)+1 >= keyNameMax {
				return fail("New key makes total cmap path too long")
			}
			if msg := h.item(joinPath(top.path, key), key, value, &top.st, line); msg != "" {
				return fail(msg)
			}
			continue
		}
		if strings.IndexByte(text, '}') >= 0 {
			if removeWhitespace(text, false) != "}" {
				return fail("Extra characters before or after closing bracket '}'")
			}
			if len(stack) == 1 {
				return fail("Unexpected closing brace")
			}
			if msg := h.sectionEnd(top.path, &top.st, line); msg != "" {
				return fail(msg)
			}
			stack = stack[:len(stack)-1]
			continue
		}
		return fail("Line is not opening or closing section or key value")
	}
	if len(stack) > 1 {
		return fail("Missing closing brace")
	}
	return nil
}

// splitAt splits a line at the separator at i the way strchr_rs and the NUL it writes do:
// the value starts after the separator and any spaces and tabs, and the head ends one
// character before the value (so it may keep the separator and some blanks, which
// removeWhitespace then trims).
func splitAt(text string, i int) (head, rest string) {
	j := i + 1
	for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
		j++
	}
	return text[:j-1], text[j:]
}

// removeWhitespace is coroparse.c's: leading spaces and tabs go; trailing spaces and tabs
// (and ':' and '{' when colonBrace) go too, but never the first remaining character.
func removeWhitespace(s string, colonBrace bool) string {
	s = strings.TrimLeft(s, " \t")
	if s == "" {
		return ""
	}
	end := len(s) - 1
	for end > 0 {
		c := s[end]
		if c == ' ' || c == '\t' || (colonBrace && (c == ':' || c == '{')) {
			end--
			continue
		}
		break
	}
	return s[:end+1]
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
