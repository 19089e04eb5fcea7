CREATE TABLE run_log (
  id BIGSERIAL PRIMARY KEY,
  task TEXT NOT NULL,
  started_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP NULL,
  ok SMALLINT NOT NULL DEFAULT 0,
  summary TEXT NULL
);
CREATE INDEX run_log_task_idx ON run_log (task, id);
