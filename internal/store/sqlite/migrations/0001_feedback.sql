CREATE TABLE feedback (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	port    INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
	lang    TEXT    NOT NULL CHECK (length(lang) BETWEEN 2 AND 17),
	rating  TEXT    NOT NULL CHECK (rating IN ('unhelpful', 'neutral', 'helpful')),
	comment TEXT    NOT NULL DEFAULT '',
	created INTEGER NOT NULL -- microseconds since the Unix epoch, UTC
) STRICT;

CREATE INDEX feedback_port_lang ON feedback (port, lang);
