package main

import (
	"bufio"
	"bytes"
	"io"
)

// fgetsSize is the buffer read_in_config_file hands to fgets: a line longer than 1023
// bytes is read, and interpreted, as several lines.
const fgetsSize = 1024

// lineKind is what one line of a -p file asks for.
type lineKind int

const (
	lineSkip         lineKind = iota // blank or comment
	lineSet                          // <key> <type> <value>
	lineDelete                       // ^<key>
	lineDeletePrefix                 // ^^<prefix>
	lineIncomplete                   // a key to set without type or value: an error
)

// loadLine is one parsed line of a -p file. For lineIncomplete, key is what the error
// message names ("(null)" when the line held no key at all, as glibc prints NULL).
type loadLine struct {
	kind            lineKind
	key, typ, value string
}

// nextChunk returns what fgets(buf, 1024, f) would: bytes up to and including a newline,
// at most 1023 of them; io.EOF when nothing is left. Read errors end the file, as they
// end fgets's loop (reading a directory gives nothing).
func nextChunk(r *bufio.Reader) ([]byte, error) {
	var chunk []byte
	for len(chunk) < fgetsSize-1 {
		c, err := r.ReadByte()
		if err != nil {
			if len(chunk) == 0 {
				return nil, io.EOF
			}
			return chunk, nil
		}
		chunk = append(chunk, c)
		if c == '\n' {
			break
		}
	}
	return chunk, nil
}

// parseLoadLine interprets one fgets chunk as read_in_config_file does. It works on the
// C string (up to the first NUL). Leading blanks (space, tab) are skipped; a line that
// then starts with '#' or ends is skipped. Tokens are split at spaces and newlines only,
// so a tab stays inside a token. "^key" deletes, "^^prefix" deletes by prefix (anything
// after the first token is ignored); otherwise the first three tokens are key, type and
// value, and extra tokens are ignored.
func parseLoadLine(chunk []byte) loadLine {
	if i := bytes.IndexByte(chunk, 0); i >= 0 {
		chunk = chunk[:i]
	}
	line := bytes.TrimLeft(chunk, " \t")
	if len(line) > 0 && (line[0] == '#' || line[0] == '\n') {
		return loadLine{kind: lineSkip}
	}
	tokens := strtokFields(line, 3)
	if len(tokens) == 0 {
		// Only an unterminated run of blanks: strtok finds no key, and printf("%s") of
		// the NULL key prints "(null)".
		return loadLine{kind: lineIncomplete, key: "(null)"}
	}
	key := string(tokens[0])
	switch {
	case len(key) >= 2 && key[:2] == "^^":
		return loadLine{kind: lineDeletePrefix, key: key[2:]}
	case key[0] == '^':
		return loadLine{kind: lineDelete, key: key[1:]}
	case len(tokens) < 3:
		return loadLine{kind: lineIncomplete, key: key}
	}
	return loadLine{kind: lineSet, key: key, typ: string(tokens[1]), value: string(tokens[2])}
}

// strtokFields returns up to n tokens of s separated by runs of spaces and newlines, as
// successive strtok(..., " \n") calls find them.
func strtokFields(s []byte, n int) [][]byte {
	var tokens [][]byte
	for len(tokens) < n {
		start := 0
		for start < len(s) && (s[start] == ' ' || s[start] == '\n') {
			start++
		}
		if start == len(s) {
			break
		}
		end := start
		for end < len(s) && s[end] != ' ' && s[end] != '\n' {
			end++
		}
		tokens = append(tokens, s[start:end])
		s = s[end:]
	}
	return tokens
}
