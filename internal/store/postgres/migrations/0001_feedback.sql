CREATE TABLE feedback (
	id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	port    integer     NOT NULL CHECK (port BETWEEN 0 AND 65535),
	lang    text        NOT NULL CHECK (length(lang) BETWEEN 2 AND 17),
	rating  text        NOT NULL CHECK (rating IN ('unhelpful', 'neutral', 'helpful')),
	comment text        NOT NULL DEFAULT '',
	created timestamptz NOT NULL
);

CREATE INDEX feedback_port_lang ON feedback (port, lang);
