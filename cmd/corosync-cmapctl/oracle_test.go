package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// oracleSource is a small C program asking the C library itself what the C tool's
// building blocks do: glibc's getopt, sscanf's %ld/%lu/%f/%lf and printf's %f. The tests
// compare this package's emulations with it.
//
//	oracle getopt ARGS...   one line per option ("o c" or "o c ARG"), "E" after getopt's
//	                        '?' (its message goes to stderr), then "P OPERAND" lines
//	oracle scan             per stdin line (hex of the input): "ld RES VAL lu RES VAL
//	                        f RES BITS lf RES BITS", values only where RES is 1
//	oracle printf           per stdin line "d HEX16" or "f HEX8": printf("%f") of it
const oracleSource = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <inttypes.h>
#include <unistd.h>

static int unhex(const char *h, char *out) {
	size_t n = strlen(h) / 2, i;
	for (i = 0; i < n; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (char)v;
	}
	out[n] = 0;
	return (int)n;
}

int main(int argc, char **argv) {
	char line[4096], in[2048];
	if (argc >= 2 && strcmp(argv[1], "getopt") == 0) {
		int c;
		argv[1] = "prog";
		argv++;
		argc--;
		while ((c = getopt(argc, argv, "m:hqgsdDtTbp:C:")) != -1) {
			if (c == '?') {
				printf("E\n");
				return 0;
			}
			if (optarg != NULL && (c == 'm' || c == 'p' || c == 'C'))
				printf("o %c %s\n", c, optarg);
			else
				printf("o %c\n", c);
		}
		for (; optind < argc; optind++)
			printf("P %s\n", argv[optind]);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "scan") == 0) {
		while (fgets(line, sizeof(line), stdin) != NULL) {
			int64_t i64 = 0;
			uint64_t u64 = 0;
			float f = 0;
			double d = 0;
			int r1, r2, r3, r4;
			uint32_t fb;
			uint64_t db;
			line[strcspn(line, "\n")] = 0;
			unhex(line, in);
			r1 = sscanf(in, "%" PRId64, &i64);
			r2 = sscanf(in, "%" PRIu64, &u64);
			r3 = sscanf(in, "%f", &f);
			r4 = sscanf(in, "%lf", &d);
			memcpy(&fb, &f, 4);
			memcpy(&db, &d, 8);
			printf("ld %d %" PRId64 " lu %d %" PRIu64 " f %d %08" PRIx32 " lf %d %016" PRIx64 "\n",
				r1 == 1, r1 == 1 ? i64 : 0, r2 == 1, r2 == 1 ? u64 : 0,
				r3 == 1, r3 == 1 ? fb : 0, r4 == 1, r4 == 1 ? db : 0);
		}
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "printf") == 0) {
		while (fgets(line, sizeof(line), stdin) != NULL) {
			if (line[0] == 'd') {
				uint64_t b = strtoull(line + 2, NULL, 16);
				double d;
				memcpy(&d, &b, 8);
				printf("%f\n", d);
			} else {
				uint32_t b = (uint32_t)strtoul(line + 2, NULL, 16);
				float f;
				memcpy(&f, &b, 4);
				printf("%f\n", f);
			}
		}
		return 0;
	}
	return 2;
}
`

// buildOracle compiles oracleSource, skipping the test without a C compiler.
func buildOracle(t *testing.T) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("skipping: gcc is needed to ask glibc itself (apt-get install gcc)")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "oracle.c")
	bin := filepath.Join(dir, "oracle")
	if err := os.WriteFile(src, []byte(oracleSource), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-O1", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("compiling the oracle: %v\n%s", err, out)
	}
	return bin
}

// runOracle runs the oracle with a time limit and returns its stdout and stderr. The
// environment is the test's without POSIXLY_CORRECT, plus env.
func runOracle(t *testing.T, bin string, stdin []byte, env []string, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "POSIXLY_CORRECT=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("oracle %v: %v\n%s", args, err, errb.String())
	}
	return out.String(), errb.String()
}
