package syncer

import "time"

// QuarantineAfter is the number of failed attempts after which an order is
// quarantined: fetch_new no longer retries it, reconcile does once an hour.
const QuarantineAfter = 10

// maxBackoff caps the wait between two attempts of one order.
const maxBackoff = time.Hour

// backoff is the wait after an order's attempt number attempts failed: the
// first failure is retried by the next run, then 1, 2, 4 … minutes, never
// more than an hour.
func backoff(attempts int) time.Duration {
	if attempts <= 1 {
		return 0
	}
	d := time.Minute
	for i := 2; i < attempts; i++ {
		d *= 2
		if d >= maxBackoff {
			return maxBackoff
		}
	}
	return d
}
