//! TLS to PostgreSQL, as libpq's `sslmode` says, so `DATABASE_URL` can be a hosted
//! project's connection string: `disable`/`prefer` (no TLS here), `require` (encrypted; the
//! server is verified only if a root certificate is given, libpq's meaning), `verify-ca`
//! and `verify-full` (verified against `sslrootcert` / `PGSSLROOTCERT` — e.g. the CA
//! certificate Supabase offers in the dashboard — or the Mozilla roots).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{Error, Result};

/// What a connection string asks for.
pub enum Tls {
    None,
    Rustls(MakeRustlsConnect),
}

/// Reads (and takes out) the TLS options tokio-postgres does not know, and returns the
/// URL to give it with the connector to use.
pub fn from_url(url: &str) -> Result<(String, Tls)> {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return Ok((url.to_string(), Tls::None)); // key=value form: tokio-postgres parses it
    };
    let mut mode = String::from("prefer");
    let mut root_file = std::env::var("PGSSLROOTCERT").ok();
    let mut kept = Vec::new();
    for (key, value) in parsed.query_pairs() {
        match key.as_ref() {
            "sslmode" => mode = value.into_owned(),
            "sslrootcert" => root_file = Some(value.into_owned()),
            _ => kept.push((key.into_owned(), value.into_owned())),
        }
    }
    let verify = match mode.as_str() {
        "disable" | "allow" | "prefer" => None,
        "require" => Some(root_file.is_some()),
        "verify-ca" | "verify-full" => Some(true),
        other => return Err(Error::Pool(format!("sslmode={other} is not supported"))),
    };
    let Some(verify) = verify else {
        return Ok((url.to_string(), Tls::None));
    };
    kept.push(("sslmode".into(), "require".into()));
    parsed.query_pairs_mut().clear().extend_pairs(kept);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| Error::Pool(error.to_string()))?;
    let config = if verify {
        let mut roots = RootCertStore::empty();
        match &root_file {
            Some(file) => {
                let certificates = CertificateDer::pem_file_iter(file)
                    .map_err(|error| Error::Pool(format!("sslrootcert {file}: {error}")))?;
                for certificate in certificates {
                    let certificate = certificate
                        .map_err(|error| Error::Pool(format!("sslrootcert {file}: {error}")))?;
                    roots
                        .add(certificate)
                        .map_err(|error| Error::Pool(format!("sslrootcert {file}: {error}")))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider)))
            .with_no_client_auth()
    };
    Ok((
        parsed.to_string(),
        Tls::Rustls(MakeRustlsConnect::new(config)),
    ))
}

/// `sslmode=require` without a root certificate: the connection is encrypted, the
/// server's certificate is not checked (libpq does the same; name a root certificate to
/// have it checked). Handshake signatures are still verified.
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
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
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
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
