//! OpenID Connect login against a municipality's own identity provider (Entra ID, Freja eID+, SITHS through
//! an IdP), with the `openidconnect` crate: discovery, the authorization code flow with PKCE, and every
//! check of the ID token (signature by the provider's published keys, issuer, audience, expiry, nonce).
//!
//! Policy:
//! - Providers are configured, never discovered from user input: `SAKNAD_OIDC` or `[default.oidc.NAME]` in
//!   Rocket.toml, each with its issuer, client id and secret, the email domains it may vouch for, and which
//!   `acr` / `amr` values count as strong authentication.
//! - The HTTP client follows no redirects (the crate's SSRF advice) and trusts the public roots, plus the
//!   provider's own CA file when one is named.
//! - What the login flow must remember between the redirect to the provider and the way back (the state,
//!   the nonce, the PKCE verifier) travels in a private (encrypted and authenticated) cookie, never in the
//!   database or the URL.
//! - Who the person is: the user bound to the provider's subject (`oidc_subject`), else — only the first
//!   time — the active user whose email the provider vouches for (`email_verified`, or a provider trusted to
//!   verify email) in one of its domains; the subject is then bound to that user.

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthenticationContextClass, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};

/// A provider as configured.
#[derive(Debug, Clone, Deserialize)]
pub struct RawProvider {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// what the login button says, e.g. "Stockholms stad (Entra ID)"
    pub label: Option<String>,
    /// the email domains this provider may vouch for; empty: any
    #[serde(default)]
    pub email_domains: Vec<String>,
    /// `acr` values that count as strong authentication (e.g. `http://id.elegnamnden.se/loa/1.0/loa3`)
    #[serde(default)]
    pub strong_acr: Vec<String>,
    /// `amr` values that count as strong authentication (e.g. `mfa`, `hwk`, `otp`)
    #[serde(default)]
    pub strong_amr: Vec<String>,
    /// the provider verifies email addresses itself even without an `email_verified` claim (Entra ID)
    #[serde(default)]
    pub trust_email: bool,
    /// a PEM file of the certificate authority of an internal provider
    pub ca_file: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Provider {
    /// the name in the configuration and in the provider's paths: `/login/oidc/{id}`
    pub id: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub label: String,
    pub email_domains: Vec<String>,
    pub strong_acr: Vec<String>,
    pub strong_amr: Vec<String>,
    pub trust_email: bool,
    pub ca_pem: Option<Vec<u8>>,
}

impl RawProvider {
    pub fn validate(self, id: &str) -> Result<Provider, String> {
        let ok_id = !id.is_empty() && id.len() <= 40 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok_id {
            return Err(format!("SAKNAD_OIDC: the provider name {id:?} must be letters, digits and '-'"));
        }
        IssuerUrl::new(self.issuer.clone()).map_err(|e| format!("SAKNAD_OIDC.{id}.issuer is not a URL: {e}"))?;
        // Plain http only on this machine (a provider run for tests).
        let local = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"];
        if !(self.issuer.starts_with("https://") || local.iter().any(|l| self.issuer.starts_with(l))) {
            return Err(format!("SAKNAD_OIDC.{id}.issuer must be an https:// URL"));
        }
        if self.client_id.trim().is_empty() {
            return Err(format!("SAKNAD_OIDC.{id}.client_id is empty"));
        }
        let ca_pem = match &self.ca_file {
            Some(f) => Some(std::fs::read(f).map_err(|e| format!("SAKNAD_OIDC.{id}.ca_file {f}: {e}"))?),
            None => None,
        };
        Ok(Provider {
            id: id.to_string(),
            label: self.label.unwrap_or_else(|| id.to_string()),
            issuer: self.issuer,
            client_id: self.client_id,
            client_secret: self.client_secret.filter(|s| !s.is_empty()),
            email_domains: self.email_domains.iter().map(|d| d.trim().to_ascii_lowercase()).collect(),
            strong_acr: self.strong_acr,
            strong_amr: self.strong_amr,
            trust_email: self.trust_email,
            ca_pem,
        })
    }
}

/// What the browser keeps (in a private cookie) between the redirect and the way back.
#[derive(Debug, Serialize, Deserialize)]
pub struct Pending {
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// Who the provider says the person is, after every check of the ID token.
#[derive(Debug, Clone)]
pub struct Identity {
    /// `provider subject`, unique per provider
    pub subject: String,
    /// the email the provider vouches for, lower case; `None` when it does not vouch for one
    pub email: Option<String>,
    /// the provider's `acr` or `amr` is one the configuration counts as strong
    pub strong: bool,
    /// how the person authenticated at the provider, for the access log (`acr` and `amr` as given)
    pub method: String,
}

#[derive(Debug)]
pub struct OidcError(pub String);

fn http_client(p: &Provider) -> Result<openidconnect::reqwest::Client, OidcError> {
    let mut b = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10));
    if let Some(pem) = &p.ca_pem {
        let cert =
            openidconnect::reqwest::Certificate::from_pem(pem).map_err(|e| OidcError(format!("ca_file: {e}")))?;
        b = b.add_root_certificate(cert);
    }
    b.build().map_err(|e| OidcError(format!("http client: {e}")))
}

async fn metadata(p: &Provider, http: &openidconnect::reqwest::Client) -> Result<CoreProviderMetadata, OidcError> {
    let issuer = IssuerUrl::new(p.issuer.clone()).map_err(|e| OidcError(e.to_string()))?;
    CoreProviderMetadata::discover_async(issuer, http).await.map_err(|e| OidcError(format!("discovery: {e}")))
}

fn redirect_url(public_url: &str, p: &Provider) -> Result<RedirectUrl, OidcError> {
    RedirectUrl::new(format!("{public_url}/login/oidc/{}/callback", p.id)).map_err(|e| OidcError(e.to_string()))
}

/// The client as discovery makes it: the authorization endpoint known, the token endpoint (and user info)
/// as the provider's metadata says.
type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// The HTTP client and the provider's client for Saknad, from the provider's discovery document and keys
/// (fetched each time: a provider may rotate its keys whenever it likes).
async fn client(p: &Provider, public_url: &str) -> Result<(openidconnect::reqwest::Client, Client), OidcError> {
    let http = http_client(p)?;
    let meta = metadata(p, &http).await?;
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(p.client_id.clone()),
        p.client_secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(redirect_url(public_url, p)?);
    Ok((http, client))
}

/// The provider's authorization URL to send the browser to, and what to remember until it comes back.
pub async fn start(p: &Provider, public_url: &str) -> Result<(String, Pending), OidcError> {
    let (_, client) = client(p, public_url).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge);
    // Asks for the strong levels (`acr_values`, voluntary): a provider names the level it used only when asked.
    for acr in &p.strong_acr {
        request = request.add_auth_context_value(AuthenticationContextClass::new(acr.clone()));
    }
    let (url, state, nonce) = request.url();
    let pending = Pending {
        provider: p.id.clone(),
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
    };
    Ok((url.to_string(), pending))
}

/// The way back: the state must be the one sent; the code is exchanged (with the PKCE verifier) and the ID
/// token checked against the provider's keys, the client id, the issuer, the nonce and `now`.
pub async fn finish(
    p: &Provider,
    public_url: &str,
    pending: Pending,
    code: &str,
    state: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Identity, OidcError> {
    use sha2::{Digest, Sha256};
    // Compared as hashes: no early exit on the first differing byte.
    if pending.provider != p.id || Sha256::digest(state.as_bytes()) != Sha256::digest(pending.state.as_bytes()) {
        return Err(OidcError("the state does not match this browser's login".into()));
    }
    let (http, client) = client(p, public_url).await?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(|e| OidcError(format!("token endpoint: {e}")))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
        .request_async(&http)
        .await
        .map_err(|e| OidcError(format!("code exchange: {e}")))?;
    let id_token = tokens.id_token().ok_or_else(|| OidcError("no ID token in the answer".into()))?;
    let verifier = client.id_token_verifier().set_time_fn(move || now);
    let claims =
        id_token.claims(&verifier, &Nonce::new(pending.nonce)).map_err(|e| OidcError(format!("ID token: {e}")))?;
    let acr = claims.auth_context_ref().map(|a| a.as_str().to_string());
    let amr: Vec<String> =
        claims.auth_method_refs().map(|v| v.iter().map(|a| a.as_str().to_string()).collect()).unwrap_or_default();
    let strong = acr.as_ref().is_some_and(|a| p.strong_acr.contains(a)) || amr.iter().any(|m| p.strong_amr.contains(m));
    let vouched = claims.email_verified() == Some(true) || p.trust_email;
    let email = claims
        .email()
        .map(|e| e.as_str().trim().to_lowercase())
        .filter(|e| vouched && crate::domain::validate::email_in_domains(e, &p.email_domains));
    let method = format!(
        "acr {} amr {}",
        acr.as_deref().unwrap_or("-"),
        if amr.is_empty() { "-".into() } else { amr.join(",") }
    );
    Ok(Identity { subject: format!("{} {}", p.id, claims.subject().as_str()), email, strong, method })
}
