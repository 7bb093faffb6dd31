//! The web endpoint's TLS identity. Browsers give camera and microphone
//! only to secure pages (HTTPS, or `localhost`), so the broker always
//! speaks TLS: with the operator's certificate (`--tls-cert/--tls-key`) or
//! a self-signed one it writes to its data dir on first start and keeps, so
//! the fingerprint people were told to check stays the same.

use super::WebError;
use futures_rustls::rustls::pki_types::pem::PemObject;
use futures_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use futures_rustls::rustls::{self, ServerConfig};
use sha2::{Digest, Sha256};
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const CERT_FILE: &str = "web-cert.pem";
pub const KEY_FILE: &str = "web-key.pem";

/// A loaded certificate chain and key, ready to serve.
pub struct TlsIdentity {
    pub config: Arc<ServerConfig>,
    /// SHA-256 of the leaf certificate, `AB:CD:…`.
    pub fingerprint: String,
}

/// Where the certificate comes from.
#[derive(Debug, Clone)]
pub enum CertSource {
    /// Self-signed, kept in this data dir.
    DataDir(PathBuf),
    Files {
        cert: PathBuf,
        key: PathBuf,
    },
}

pub fn load(source: &CertSource) -> Result<TlsIdentity, WebError> {
    let (cert, key) = match source {
        CertSource::Files { cert, key } => (cert.clone(), key.clone()),
        CertSource::DataDir(dir) => {
            let (cert, key) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
            if !cert.exists() || !key.exists() {
                create_self_signed(&cert, &key)?;
            }
            (cert, key)
        }
    };
    let tls =
        |path: &Path, e: &dyn std::fmt::Display| WebError::Tls(format!("{}: {e}", path.display()));
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert)
        .map_err(|e| tls(&cert, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| tls(&cert, &e))?;
    let leaf = chain
        .first()
        .ok_or_else(|| tls(&cert, &"no certificate in the file"))?;
    let fingerprint = fingerprint(leaf);
    let key_der = PrivateKeyDer::from_pem_file(&key).map_err(|e| tls(&key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| WebError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| tls(&cert, &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsIdentity {
        config: Arc::new(config),
        fingerprint,
    })
}

/// The fingerprint of the first certificate in a PEM file.
pub fn file_fingerprint(path: &Path) -> Result<String, WebError> {
    let cert = CertificateDer::from_pem_file(path)
        .map_err(|e| WebError::Tls(format!("{}: {e}", path.display())))?;
    Ok(fingerprint(&cert))
}

/// `AB:CD:…` (as browsers show it).
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    Sha256::digest(cert.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The names the certificate is for: `localhost` and this host's addresses
/// now (browsers still ask the user to trust a self-signed certificate).
fn subject_names() -> Vec<String> {
    let mut names = vec!["localhost".to_string()];
    if let Ok(ifs) = if_addrs::get_if_addrs() {
        names.extend(ifs.iter().map(|i| i.ip().to_string()));
    }
    names.sort();
    names.dedup();
    names
}

fn create_self_signed(cert_path: &Path, key_path: &Path) -> Result<(), WebError> {
    let generated = rcgen::generate_simple_self_signed(subject_names())
        .map_err(|e| WebError::Tls(format!("generating a certificate: {e}")))?;
    write_new(
        key_path,
        generated.key_pair.serialize_pem().as_bytes(),
        0o600,
    )?;
    write_new(cert_path, generated.cert.pem().as_bytes(), 0o644)?;
    tracing::info!(
        "wrote a self-signed web certificate to {}",
        cert_path.display()
    );
    Ok(())
}

fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<(), WebError> {
    let io = |e: std::io::Error| WebError::Tls(format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(io)?;
    f.write_all(data).map_err(io)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_self_signed_certificate_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let source = CertSource::DataDir(dir.path().to_path_buf());
        let first = load(&source).unwrap();
        assert_eq!(first.fingerprint.len(), 32 * 3 - 1);
        assert_eq!(load(&source).unwrap().fingerprint, first.fingerprint);
        let bad = CertSource::Files {
            cert: dir.path().join("missing.pem"),
            key: dir.path().join(KEY_FILE),
        };
        assert!(load(&bad).is_err());
    }
}
