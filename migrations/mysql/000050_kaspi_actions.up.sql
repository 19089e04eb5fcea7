CREATE TABLE kaspi_actions (
  order_code VARCHAR(64) NOT NULL,
  action VARCHAR(16) NOT NULL,
  state VARCHAR(16) NOT NULL,
  tries INT NOT NULL DEFAULT 0,
  detail TEXT NULL,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  PRIMARY KEY (order_code, action)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
