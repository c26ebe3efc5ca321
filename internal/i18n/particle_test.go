package i18n

import (
	"regexp"
	"strings"
	"testing"
)

func TestParticle(t *testing.T) {
	for _, tc := range []struct{ word, particle, want string }{
		// Numbers, read in Sino-Korean by their last unit.
		{"2556", "은", "2556은"},   // 육
		{"60999", "을", "60999를"}, // 구
		{"22", "는", "22는"},       // 이
		{"0", "는", "0은"},         // 영
		{"1", "로", "1로"},         // 일: ㄹ takes 로
		{"3", "로", "3으로"},        // 삼
		{"7", "이", "7이"},         // 칠
		{"8", "와", "8과"},         // 팔
		{"4", "은", "4는"},         // 사
		{"5", "을", "5를"},         // 오
		{"9", "과", "9와"},         // 구
		{"10", "는", "10은"},       // 십
		{"20", "로", "20으로"},      // 이십
		{"100", "는", "100은"},     // 백
		{"1000", "를", "1000을"},   // 천
		{"10000", "가", "10000이"}, // 만
		{"80", "를", "80을"},       // 팔십
		{"443", "는", "443은"},     // 삼
		{"3389", "를", "3389를"},   // 구
		{"48,128", "은", "48,128은"},
		{"65,535", "는", "65,535는"},
		{"32768–60999", "을", "32768–60999를"},
		{"6000-6063", "은", "6000-6063은"},
		{"11.5", "는", "11.5는"},
		{"11.8%", "은", "11.8%는"},
		// Latin words by their English pronunciation.
		{"3389/tcp", "을", "3389/tcp를"}, // 피
		{"2556/tcp와 2556/udp", "을", "2556/tcp와 2556/udp를"},
		{"ssh", "은", "ssh는"}, // 에이치
		{"RDP", "이", "RDP가"}, // 피
		{"TCP", "과", "TCP와"},
		{"HTML", "로", "HTML로"},           // 엘
		{"SSL", "은", "SSL은"},             // 엘
		{"DNS", "을", "DNS를"},             // 에스
		{"VPN", "이", "VPN이"},             // 엔
		{"AMT", "로", "AMT로"},             // 티
		{"server", "는", "server는"},       // 서버
		{"Bagle", "은", "Bagle은"},         // 베이글
		{"Bagle", "으로", "Bagle로"},        // ㄹ
		{"Minecraft", "는", "Minecraft는"}, // 마인크래프트
		{"Redis", "를", "Redis를"},         // 레디스
		{"Jellyfin", "이", "Jellyfin이"},   // 젤리핀
		{"Slack", "은", "Slack은"},         // 슬랙
		{"nmap", "으로", "nmap으로"},         // 엔맵
		{"tool", "으로", "tool로"},          // 툴
		{"Syncthing", "을", "Syncthing을"}, // 싱크싱
		{"`porthole who 22`", "을", "`porthole who 22`를"},
		{"“abc”", "와", "“abc”와"},
		// Hangul by its final consonant.
		{"포트", "은", "포트는"},
		{"백도어", "이", "백도어가"},
		{"웜", "를", "웜을"},
		{"채널", "으로", "채널로"},
		{"경로", "으로", "경로로"},
		{"목록", "로", "목록으로"},
		// Unknown endings keep the form written.
		{"…", "은", "…은"},
		{"", "를", "를"},
		// Not a particle: appended as given.
		{"포트", "의", "포트의"},
	} {
		if got := Particle(tc.word, tc.particle); got != tc.want {
			t.Errorf("Particle(%q, %q) = %q, want %q", tc.word, tc.particle, got, tc.want)
		}
	}
}

func TestRenderBraces(t *testing.T) {
	for _, tc := range []struct {
		lang Lang
		key  string
		args []any
		want string
	}{
		{KO, "context.position", []any{"2556", 1533, 48128}, "포트 2556은 이 범위의 번호 48,128개 중 1,533번째입니다."},
		{KO, "context.position", []any{"22", 22, 1024}, "포트 22는 이 범위의 번호 1,024개 중 22번째입니다."},
		{KO, "context.ephemeral.out", []any{"32768", "60999", "2556"},
			"이 컴퓨터는 임시 포트로 32768–60999를 쓰며, 2556은 그 범위 밖에 있습니다."},
		{KO, "registry.assigned", []any{"3389/tcp", "ms-wbt-server"}, "IANA는 3389/tcp를 ms-wbt-server에 등록해 두었습니다."},
		{KO, "threats.since", []any{"2021"}, "2021년부터"},
		{EN, "what.rows", []any{1}, "IANA lists 1 row for this port:"},
		{EN, "what.rows", []any{2}, "IANA lists 2 rows for this port:"},
		{EN, "web.search.count", []any{1, "ssh"}, "1 result for “ssh”."},
		{EN, "web.local.count", []any{0}, "0 listening sockets."},
	} {
		if got := T(tc.lang, tc.key, tc.args...); got != tc.want {
			t.Errorf("T(%s, %s, %v) = %q, want %q", tc.lang, tc.key, tc.args, got, tc.want)
		}
	}
	if got := List(KO, []string{"2556/tcp", "2556/udp"}); got != "2556/tcp와 2556/udp" {
		t.Errorf("List(ko) = %q", got)
	}
	if got := List(EN, []string{"a", "b", "c"}); got != "a, b and c" {
		t.Errorf("List(en) = %q", got)
	}
	if got := List(KO, []string{"웜", "봇넷", "RAT"}); got != "웜, 봇넷과 RAT" {
		t.Errorf("List(ko, 3) = %q", got)
	}
}

// TestCatalogKorean checks every catalog sentence: no particle in both
// forms, no "2021-년", no plural "(s)" in English, and every particle brace
// is one the renderer knows.
func TestCatalogKorean(t *testing.T) {
	brace := regexp.MustCompile(`\{([^}]*)\}`)
	for _, l := range Langs {
		for k, msg := range catalog(l) {
			if l == KO {
				if why := KoreanProblem(msg); why != "" && msg != catalog(EN)[k] {
					t.Errorf("%s: %q: %s: %q", l, k, why, msg)
				}
			}
			if strings.Contains(msg, "(s)") {
				t.Errorf("%s: %q pluralises with (s): %q", l, k, msg)
			}
			for _, m := range brace.FindAllStringSubmatch(msg, -1) {
				inner := m[1]
				if _, ok := particlePair(inner); ok {
					continue
				}
				if regexp.MustCompile(`^[0-9]+(\|[^|]*\|[^|]*)?$`).MatchString(inner) {
					continue
				}
				t.Errorf("%s: %q has an unknown brace {%s}", l, k, inner)
			}
		}
	}
}

// TestKoreanParticlesRendered renders every Korean message that holds a
// particle brace with numbers and words of every ending, and checks that no
// brace survives.
func TestKoreanParticlesRendered(t *testing.T) {
	args := []any{"2556", "22", "ms-wbt-server", "2021-05-14", "x", "y"}
	for k, msg := range catalog(KO) {
		if !strings.Contains(msg, "{") {
			continue
		}
		got := T(KO, k, args...)
		for _, pair := range particles {
			for _, p := range pair {
				if strings.Contains(got, "{"+p+"}") {
					t.Errorf("%q left a particle brace: %q", k, got)
				}
			}
		}
	}
}

func TestKoreanProblem(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"포트 2556은 웜의 백도어입니다.", ""},
		{"포트 2556은(는) 웜의 백도어입니다.", "particle"},
		{"{0}을(를) 실행", "particle"},
		{"임시 포트(으)로", "particle"},
		{"2021-년", "dangling year"},
		{"2021–년", "dangling year"},
		{"Bagle worm backdoor.", "no Hangul"},
		{"IANA, RFC 6335", "no Hangul"},
		{"2004년", ""},
		{"", ""},
		{"2556", ""},
	} {
		got := KoreanProblem(tc.in)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("KoreanProblem(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
