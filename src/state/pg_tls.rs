//! TLS to PostgreSQL as libpq does it: `sslmode` (`disable`, `prefer` — the default —,
//! `require`, `verify-ca`, `verify-full`) and `sslrootcert` from the connection string or
//! `PGSSLMODE` / `PGSSLROOTCERT`, through rustls (ring) and tokio-postgres-rustls.
//!
//! tokio-postgres parses only `disable`/`prefer`/`require` and knows no `sslrootcert`, so
//! [`split`] takes both out of the connection string first. As in libpq, `prefer` and
//! `require` encrypt without checking the server's certificate (unless a root certificate is
//! given: then `require` checks it as `verify-ca` does), `verify-ca` checks that a trusted
//! authority signed it, and `verify-full` checks the host name too. The root certificates come
//! from `sslrootcert` (a PEM file, or `system` for the system's store), by default
//! `~/.postgresql/root.crt`.

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::sync::Arc;
use tokio_postgres::config::SslMode;

/// libpq's `sslmode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    fn parse(v: &str) -> Result<Mode, String> {
        Ok(match v {
            "disable" => Mode::Disable,
            // libpq's `allow` tries without TLS first; without a retry that is `prefer`.
            "allow" | "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode: expected disable, allow, prefer, require, verify-ca or verify-full, found {other:?}"
                ));
            }
        })
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Mode::Disable => "disable",
            Mode::Prefer => "prefer",
            Mode::Require => "require",
            Mode::VerifyCa => "verify-ca",
            Mode::VerifyFull => "verify-full",
        }
    }

    /// What tokio-postgres is told: whether TLS is tried, and required.
    pub(super) fn ssl_mode(self) -> SslMode {
        match self {
            Mode::Disable => SslMode::Disable,
            Mode::Prefer => SslMode::Prefer,
            _ => SslMode::Require,
        }
    }
}

/// The TLS settings of one connection.
#[derive(Clone, Debug)]
pub(super) struct Tls {
    pub mode: Mode,
    pub root_cert: Option<String>,
}

/// Takes `sslmode` and `sslrootcert` out of a connection string (URL or key=value), filling
/// what it lacks from `PGSSLMODE` / `PGSSLROOTCERT`. Returns the rest of the string.
pub(super) fn split(conn_str: &str) -> Result<(String, Tls), String> {
    let (rest, mode, root) =
        if conn_str.starts_with("postgres://") || conn_str.starts_with("postgresql://") {
            split_url(conn_str)?
        } else {
            split_kv(conn_str)
        };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mode = match mode.or_else(|| env("PGSSLMODE")) {
        Some(m) => Mode::parse(&m)?,
        None => Mode::Prefer,
    };
    let root_cert = root.or_else(|| env("PGSSLROOTCERT"));
    Ok((rest, Tls { mode, root_cert }))
}

type Split = (String, Option<String>, Option<String>);

fn split_url(s: &str) -> Result<Split, String> {
    let mut u = url::Url::parse(s).map_err(|e| format!("not a valid URL: {e}"))?;
    let (mut mode, mut root) = (None, None);
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter_map(|(k, v)| match k.as_ref() {
            "sslmode" => {
                mode = Some(v.to_string());
                None
            }
            "sslrootcert" => {
                root = Some(v.to_string());
                None
            }
            _ => Some((k.to_string(), v.to_string())),
        })
        .collect();
    if kept.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(kept);
    }
    Ok((u.to_string(), mode, root))
}

/// `key=value` pairs separated by spaces; a value may be single-quoted (with `\'` and `\\`).
fn split_kv(s: &str) -> Split {
    let (mut mode, mut root) = (None, None);
    let mut kept = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &s[start..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'=' {
            i += 1;
        }
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'\'' {
            i += 1;
            while i < b.len() && b[i] != b'\'' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                let ch = s[i..].chars().next().expect("in bounds");
                value.push(ch);
                i += ch.len_utf8();
            }
            i += 1;
        } else {
            let vs = i;
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            value.push_str(&s[vs..i]);
        }
        let end = i.min(s.len());
        match key {
            "sslmode" => mode = Some(value),
            "sslrootcert" => root = Some(value),
            _ => kept.push(&s[start..end]),
        }
    }
    (kept.join(" "), mode, root)
}

/// The rustls configuration for `tls` (not called for `disable`).
pub(super) fn client_config(tls: &Tls) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let check = match (tls.mode, &tls.root_cert) {
        (Mode::Prefer | Mode::Require, None) => None,
        (Mode::VerifyFull, _) => Some(true),
        _ => Some(false),
    };
    let Some(check_name) = check else {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unchecked(provider)))
            .with_no_client_auth());
    };
    let roots = root_store(tls.root_cert.as_deref())?;
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| format!("TLS: {e}"))?;
    Ok(if check_name {
        builder.with_webpki_verifier(webpki).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyName(webpki)))
            .with_no_client_auth()
    })
}

fn root_store(path: Option<&str>) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    if path == Some("system") {
        let found = rustls_native_certs::load_native_certs();
        for c in found.certs {
            let _ = roots.add(c);
        }
        if roots.is_empty() {
            return Err("sslrootcert=system: the system has no root certificates".into());
        }
        return Ok(roots);
    }
    let path = match path {
        Some(p) => std::path::PathBuf::from(p),
        None => {
            let home = std::env::var_os("HOME").unwrap_or_default();
            std::path::Path::new(&home).join(".postgresql/root.crt")
        }
    };
    let certs = CertificateDer::pem_file_iter(&path).map_err(|e| {
        format!(
            "sslrootcert {}: cannot read root certificates ({e}); set sslrootcert (or PGSSLROOTCERT) to the PEM file of the authority that signed the server's certificate",
            path.display()
        )
    })?;
    for c in certs {
        let c = c.map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
        roots
            .add(c)
            .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
    }
    if roots.is_empty() {
        return Err(format!(
            "sslrootcert {}: no certificate in the file",
            path.display()
        ));
    }
    Ok(roots)
}

/// `prefer` / `require` without a root certificate: encrypted, the certificate not checked (as
/// libpq). The handshake's signatures are still verified.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the host name is not checked.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_settings_leave_the_connection_string() {
        let (rest, mode, root) =
            split_kv("host=db sslmode=verify-full user=ci sslrootcert='/etc/my ca.pem' dbname = x");
        assert_eq!(rest, "host=db user=ci dbname = x");
        assert_eq!(mode.as_deref(), Some("verify-full"));
        assert_eq!(root.as_deref(), Some("/etc/my ca.pem"));
        let (rest, mode, root) = split_url(
            "postgres://ci:pw@db:5433/x?sslmode=verify-ca&application_name=a&sslrootcert=%2Fca.pem",
        )
        .unwrap();
        assert_eq!(rest, "postgres://ci:pw@db:5433/x?application_name=a");
        assert_eq!(mode.as_deref(), Some("verify-ca"));
        assert_eq!(root.as_deref(), Some("/ca.pem"));
        let (rest, _, _) = split_url("postgres://db/x?sslmode=require").unwrap();
        assert_eq!(rest, "postgres://db/x");
        assert!(Mode::parse("verify").is_err());
    }
}
