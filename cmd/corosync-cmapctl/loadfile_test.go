package main

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

func TestParseLoadLine(t *testing.T) {
	cases := []struct {
		in   string
		want loadLine
	}{
		{"# comment\n", loadLine{kind: lineSkip}},
		{"  \t# comment\n", loadLine{kind: lineSkip}},
		{"\n", loadLine{kind: lineSkip}},
		{" \t \n", loadLine{kind: lineSkip}},
		{"   ", loadLine{kind: lineIncomplete, key: "(null)"}},
		{"", loadLine{kind: lineIncomplete, key: "(null)"}},
		{"\x00a u8 1\n", loadLine{kind: lineIncomplete, key: "(null)"}},
		{"  p.a u8 5 extra\n", loadLine{kind: lineSet, key: "p.a", typ: "u8", value: "5"}},
		{"p.a  u8\n5\n", loadLine{kind: lineSet, key: "p.a", typ: "u8", value: "5"}},
		{"p.x u8 7\r\n", loadLine{kind: lineSet, key: "p.x", typ: "u8", value: "7\r"}},
		{"p.a u8 5\x00 6", loadLine{kind: lineSet, key: "p.a", typ: "u8", value: "5"}},
		{"p.b str\n", loadLine{kind: lineIncomplete, key: "p.b"}},
		{"p.c\tu8\t1\n", loadLine{kind: lineIncomplete, key: "p.c\tu8\t1"}},
		{"^p.a u8 1\n", loadLine{kind: lineDelete, key: "p.a"}},
		{"^\n", loadLine{kind: lineDelete, key: ""}},
		{"^^p.\n", loadLine{kind: lineDeletePrefix, key: "p."}},
		{"^^^x\n", loadLine{kind: lineDeletePrefix, key: "^x"}},
		{"\t^^\n", loadLine{kind: lineDeletePrefix, key: ""}},
	}
	for _, c := range cases {
		if got := parseLoadLine([]byte(c.in)); got != c.want {
			t.Errorf("parseLoadLine(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestNextChunk(t *testing.T) {
	long := strings.Repeat("k", 1500)
	r := bufio.NewReader(strings.NewReader("a u8 1\n" + long + " u8 1\nlast"))
	var chunks []string
	for {
		c, err := nextChunk(r)
		if err != nil {
			break
		}
		chunks = append(chunks, string(c))
	}
	want := []string{"a u8 1\n", long[:1023], long[1023:] + " u8 1\n", "last"}
	if len(chunks) != len(want) {
		t.Fatalf("%d chunks, want %d", len(chunks), len(want))
	}
	for i := range want {
		if chunks[i] != want[i] {
			t.Errorf("chunk %d = %q, want %q", i, chunks[i], want[i])
		}
	}
}

func FuzzLoadFile(f *testing.F) {
	f.Add([]byte("# c\n  p.a u8 5\n^p.a\n^^p.\np.b\n  \t\n   "))
	f.Add([]byte("p.x u8 7\r\n\x00\n" + strings.Repeat("x", 1100)))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		var joined []byte
		for range len(data) + 1 {
			c, err := nextChunk(r)
			if err != nil {
				break
			}
			if len(c) == 0 || len(c) > fgetsSize-1 {
				t.Fatalf("chunk of %d bytes", len(c))
			}
			if i := bytes.IndexByte(c, '\n'); i >= 0 && i != len(c)-1 {
				t.Fatalf("newline inside chunk %q", c)
			}
			joined = append(joined, c...)
			l := parseLoadLine(c)
			switch l.kind {
			case lineSet:
				if l.key == "" || l.typ == "" || l.value == "" || l.key[0] == '^' {
					t.Fatalf("set line %+v from %q", l, c)
				}
				for _, s := range []string{l.key, l.typ, l.value} {
					if strings.ContainsAny(s, " \n\x00") {
						t.Fatalf("token %q from %q", s, c)
					}
				}
			case lineIncomplete:
				if l.key == "" {
					t.Fatalf("incomplete line without a name from %q", c)
				}
			}
		}
		if !bytes.Equal(joined, data) {
			t.Fatalf("chunks do not add up to the input")
		}
	})
}
