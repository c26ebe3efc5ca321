package i18n

import (
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Korean particles change form with the sound that ends the word before
// them: 은/는, 이/가, 을/를, 과/와 pick the first form after a final
// consonant (batchim) and the second after a vowel; 으로/로 takes 로 after a
// vowel and also after ㄹ. The sound is the word's as read aloud: a number
// in Sino-Korean (2556 이천오백오십육 ends in 육, so 2556은; 60999 ends in
// 구, so 60999를; 10 십, 100 백, 1000 천, 10000 만), a Latin word or
// abbreviation in its English pronunciation (tcp "티시피": tcp를; ssh
// "에스에스에이치": ssh를; "server" 서버: server는).

// particles are the pairs: the form after a consonant, the form after a
// vowel. (An array of constants is static data; a map would be built at
// every start of every command.)
var particles = [...][2]string{
	{"은", "는"}, {"이", "가"}, {"을", "를"}, {"과", "와"}, {"으로", "로"}, {"이나", "나"}, {"이다", "다"},
}

// particlePair returns the pair that particle (either form) belongs to.
func particlePair(particle string) ([2]string, bool) {
	for _, p := range particles {
		if p[0] == particle || p[1] == particle {
			return p, true
		}
	}
	return [2]string{}, false
}

// ending is how a word ends when read aloud.
type ending uint8

const (
	endUnknown   ending = iota
	endVowel            // no final consonant
	endConsonant        // a final consonant other than ㄹ
	endRieul            // final ㄹ
)

// Particle returns word followed by the form of particle (either form of
// the pair: "은" or "는", "으로" or "로", …) that fits how word ends when
// read aloud. A particle outside the table is appended as given.
func Particle(word, particle string) string {
	return word + ParticleFor(word, particle)
}

// ParticleFor returns just the form of particle that fits word.
func ParticleFor(word, particle string) string {
	pair, ok := particlePair(particle)
	if !ok {
		return particle
	}
	switch endingOf(word) {
	case endVowel:
		return pair[1]
	case endRieul:
		if pair[0] == "으로" {
			return pair[1]
		}
		return pair[0]
	case endConsonant:
		return pair[0]
	}
	// Unknown: the form written in the catalog stands.
	return particle
}

// endingOf finds the last readable token of s (skipping closing quotes,
// brackets, backticks and spaces) and says how it ends when read.
func endingOf(s string) ending {
	s = strings.TrimRightFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(")]}”’\"'`»›.,:;!?", r)
	})
	if s == "" {
		return endUnknown
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	switch {
	case r >= 0xAC00 && r <= 0xD7A3: // a Hangul syllable
		switch (r - 0xAC00) % 28 {
		case 0:
			return endVowel
		case 8: // ㄹ
			return endRieul
		}
		return endConsonant
	case r >= '0' && r <= '9':
		return numberEnding(s)
	case r == '%':
		return endVowel // 퍼센트
	case r < utf8.RuneSelf && (r|0x20) >= 'a' && (r|0x20) <= 'z':
		return latinEnding(s)
	}
	return endUnknown
}

// digitEnding is how each digit's Sino-Korean reading ends: 영 일 이 삼 사
// 오 육 칠 팔 구.
var digitEnding = [10]ending{
	endConsonant, endRieul, endVowel, endConsonant, endVowel,
	endVowel, endConsonant, endRieul, endRieul, endVowel,
}

// numberEnding reads the trailing number of s (digits, with thousands
// commas) in Sino-Korean and says how its last unit ends: the last non-zero
// digit when there is one in the ones place, else the unit of the trailing
// zeros: 십 (ㅂ), 백 (ㄱ), 천 (ㄴ), 만 (ㄴ), 억 (ㄱ). A decimal fraction
// ("11.5") ends in its last digit.
func numberEnding(s string) ending {
	end := len(s)
	start := end
	for start > 0 && (s[start-1] >= '0' && s[start-1] <= '9' || s[start-1] == ',' && start > 1 && s[start-2] >= '0' && s[start-2] <= '9') {
		start--
	}
	digits := strings.ReplaceAll(s[start:end], ",", "")
	if start > 0 && s[start-1] == '.' {
		return digitEnding[digits[len(digits)-1]-'0']
	}
	zeros := 0
	for i := len(digits) - 1; i >= 0 && digits[i] == '0'; i-- {
		zeros++
	}
	if zeros == len(digits) {
		return endConsonant // 영
	}
	if zeros == 0 {
		return digitEnding[digits[len(digits)-1]-'0']
	}
	if zeros >= 8 {
		return endConsonant // 억
	}
	switch zeros % 4 {
	case 1, 2, 3: // 십 (ㅂ), 백 (ㄱ), 천 (ㄴ)
		return endConsonant
	}
	return endConsonant // 만
}

// letterEnding is how each Latin letter's English name ends in Korean: a
// 에이, b 비, c 시, d 디, e 이, f 에프, g 지, h 에이치, i 아이, j 제이, k 케이,
// l 엘, m 엠, n 엔, o 오, p 피, q 큐, r 알, s 에스, t 티, u 유, v 브이,
// w 더블유, x 엑스, y 와이, z 지.
var letterEnding = [26]ending{
	endVowel, endVowel, endVowel, endVowel, endVowel, endVowel, endVowel, endVowel, endVowel, endVowel,
	endVowel, endRieul, endConsonant, endConsonant, endVowel, endVowel, endVowel, endRieul, endVowel,
	endVowel, endVowel, endVowel, endVowel, endVowel, endVowel, endVowel,
}

// latinEnding says how the last Latin word of s ends in its English
// pronunciation as Korean writes it. A word written in capitals ("TCP",
// "RDP") or without a vowel letter ("tcp", "ssh", "sshd") is read letter by
// letter. Other words end as Korean spells the loanword: -m, -n and -ng in
// a consonant (스팸, 서버 → but 버전, 핑); -l and a consonant + -le in ㄹ
// (툴, 베이글); -ck, and k, p or t after one short vowel, in a consonant
// (슬랙, 앱, 봇); anything else (-r, -s, -e, -y, clusters such as -st or
// -nt, …) in a vowel (서버, 리눅스, 테스트).
func latinEnding(s string) ending {
	start := len(s)
	for start > 0 {
		if c := s[start-1] | 0x20; c < 'a' || c > 'z' {
			break
		}
		start--
	}
	w := s[start:]
	lower := strings.ToLower(w)
	n := len(lower)
	last := lower[n-1]
	if isAbbrev(w) {
		return letterEnding[last-'a']
	}
	switch {
	case last == 'l' || n > 2 && strings.HasSuffix(lower, "le") && !isVowel(lower[n-3]):
		return endRieul
	case last == 'm' || last == 'n' || strings.HasSuffix(lower, "ng"):
		return endConsonant
	case strings.HasSuffix(lower, "ck"):
		return endConsonant
	case (last == 'k' || last == 'p' || last == 't') && n >= 2 && strings.IndexByte("aeiou", lower[n-2]) >= 0 &&
		(n == 2 || !isVowel(lower[n-3])):
		return endConsonant
	}
	return endVowel
}

// isAbbrev reports whether a Latin word is read letter by letter: written
// in capitals (two or more letters) or without a vowel letter (tcp, ssh,
// http).
func isAbbrev(w string) bool {
	if len(w) >= 2 && strings.ToUpper(w) == w {
		return true
	}
	for i := 0; i < len(w); i++ {
		if isVowel(w[i] | 0x20) {
			return false
		}
	}
	return true
}

func isVowel(c byte) bool { return strings.IndexByte("aeiouy", c) >= 0 }

// koreanChecks are KoreanProblem's patterns, compiled on its first call
// rather than at every start of every command.
var koreanChecks struct {
	once                                           sync.Once
	bothForms, danglingYr, latinLetter, hangulRune *regexp.Regexp
}

// KoreanProblem says what is wrong with a Korean paragraph, "" when
// nothing is: a particle written in both forms ("은(는)", "(으)로"), a
// year with a dangling hyphen ("2021-년"), or Latin words with no Hangul at
// all (an untranslated paragraph).
func KoreanProblem(s string) string {
	c := &koreanChecks
	c.once.Do(func() {
		c.bothForms = regexp.MustCompile(`\((은|는|이|가|을|를|과|와|으)\)`)
		c.danglingYr = regexp.MustCompile(`[0-9][-–]년`)
		c.latinLetter = regexp.MustCompile(`[A-Za-z]{2,}`)
		c.hangulRune = regexp.MustCompile(`\p{Hangul}`)
	})
	bothForms, danglingYr, latinLetter, hangulRune := c.bothForms, c.danglingYr, c.latinLetter, c.hangulRune
	switch {
	case bothForms.MatchString(s):
		return "particle written in both forms " + bothForms.FindString(s)
	case danglingYr.MatchString(s):
		return "dangling year " + danglingYr.FindString(s)
	case latinLetter.MatchString(s) && !hangulRune.MatchString(s):
		return "no Hangul (an untranslated paragraph)"
	}
	return ""
}
