CREATE TABLE run_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  task TEXT NOT NULL,
  started_at DATETIME NOT NULL,
  finished_at DATETIME NULL,
  ok INTEGER NOT NULL DEFAULT 0,
  summary TEXT NULL
);
CREATE INDEX run_log_task_idx ON run_log (task, id);
