//! TLS client configuration: system-independent roots (webpki) plus the plan's extra CAs,
//! or accept-anything for self-signed test servers.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{Error, Result};

/// Client configs for the two ALPN offers the engine makes.
#[derive(Clone)]
pub struct TlsConfigs {
    /// Offers `h2` then `http/1.1` (HTTP/2 and gRPC templates).
    pub h2: tokio_rustls::TlsConnector,
    /// Offers only `http/1.1`.
    pub h1: tokio_rustls::TlsConnector,
}

impl TlsConfigs {
    /// Builds both configs.
    pub fn new(insecure: bool, extra_ca_pem: &[u8]) -> Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let make = |alpn: &[&[u8]]| -> Result<tokio_rustls::TlsConnector> {
            let builder = ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| Error::Plan(format!("TLS setup: {e}")))?;
            let mut config = if insecure {
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider.clone())))
                    .with_no_client_auth()
            } else {
                builder
                    .with_root_certificates(roots(extra_ca_pem)?)
                    .with_no_client_auth()
            };
            config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
            Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
        };
        Ok(Self {
            h2: make(&[b"h2", b"http/1.1"])?,
            h1: make(&[b"http/1.1"])?,
        })
    }
}

/// Server name for SNI and verification (IP addresses allowed).
pub fn server_name(host: &str) -> std::result::Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_owned())
        .map_err(|e| format!("invalid TLS server name {host:?}: {e}"))
}

fn roots(extra_ca_pem: &[u8]) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if !extra_ca_pem.is_empty() {
        for cert in CertificateDer::pem_slice_iter(extra_ca_pem) {
            let cert = cert.map_err(|e| Error::Plan(format!("tls_ca_pem: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| Error::Plan(format!("tls_ca_pem: {e}")))?;
        }
    }
    Ok(roots)
}

/// Accepts any server certificate (still checks handshake signatures). Only with
/// `tls_insecure`, for self-signed test servers.
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
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
