package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestFallbackRoots_WinOverAnOldHostBundle: a host whose CA bundle holds
// only an old, useless root must still reach Kaspi and amoCRM, so the
// embedded Mozilla roots are used instead of the host's bundle (go.mod's
// `godebug x509usefallbackroots=1`). The check runs in a child process
// whose SSL_CERT_FILE names a one-certificate bundle.
func TestFallbackRoots_WinOverAnOldHostBundle(t *testing.T) {
	if os.Getenv("KA_ROOTS_CHILD") == "1" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			t.Fatalf("system pool: %v", err)
		}
		// Subjects is deprecated because it leaves out roots the platform
		// verifier adds; on Linux the pool is the whole list, which is
		// what this counts.
		//lint:ignore SA1019 counting the roots of a Linux pool is exact
		if n := len(pool.Subjects()); n < 50 {
			t.Fatalf("trusted roots: %d; want the embedded list (over 50), not the host's one-certificate bundle", n)
		}
		return
	}
	bundle := filepath.Join(t.TempDir(), "old-bundle.pem")
	if err := os.WriteFile(bundle, selfSignedPEM(t), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFallbackRoots_WinOverAnOldHostBundle$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KA_ROOTS_CHILD=1", "SSL_CERT_FILE="+bundle, "SSL_CERT_DIR="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Old Host Root"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
