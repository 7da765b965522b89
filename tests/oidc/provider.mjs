// A municipality's identity provider for the tests: panva's `oidc-provider` (OpenID Certified), from the npm
// registry (CI installs oidc-provider@8.8.1). The protocol is the library's; this file only configures one
// client and the people, and answers the login page a real IdP would show (BankID, Freja, a password and a
// token): the form names the person and whether they used a second factor.
//
// node provider.mjs PORT REDIRECT_URI CLIENT_SECRET  (prints "ready" when it listens on http://localhost:PORT)
import Provider from 'oidc-provider';
import http from 'node:http';

const [port, redirectUri, clientSecret] = process.argv.slice(2);
const issuer = `http://localhost:${port}`;

// The people the municipality's directory knows. `sub` is the directory's own id, never the email.
const people = {
  'socialsekreterare@demo.saknad.se': { sub: 'entra-7f3a', name: 'Sara Socialsekreterare' },
  'personal@demo.saknad.se': { sub: 'entra-91c2', name: 'Per Personal' },
  'okand@demo.saknad.se': { sub: 'entra-0000', name: 'Okänd Person' },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'saknad',
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { acr: null, amr: null, sid: null, auth_time: null, iss: null, openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The relying party reads the person from the ID token alone.
  conformIdTokenClaims: false,
  acrValues: ['http://id.elegnamnden.se/loa/1.0/loa2', 'http://id.elegnamnden.se/loa/1.0/loa3'],
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const p = Object.entries(people).find(([, v]) => v.sub === id);
    if (!p) return undefined;
    const [email, v] = p;
    return { accountId: id, async claims() { return { sub: id, email, email_verified: true, name: v.name }; } };
  },
  // A first-party client: the municipality has agreed to what Saknad reads, so no consent page.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

const page = (uid) => `<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Kommunens inloggning</title></head>
<body><main><h1>Kommunens inloggning</h1>
<form method="post" action="/interaction/${uid}/login">
<label for="login">E-post</label><input id="login" name="login" type="email">
<label><input id="second" name="second" type="checkbox" value="1"> Med BankID (tvåstegs)</label>
<button id="idp-submit" type="submit">Logga in</button></form></main></body></html>`;

const readForm = (req) => new Promise((resolve) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => resolve(new URLSearchParams(body)));
});

const server = http.createServer(async (req, res) => {
  const m = req.url.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!m) return provider.callback()(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(page(details.uid));
    }
    const form = await readForm(req);
    const person = people[(form.get('login') || '').toLowerCase()];
    if (!person) {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'unknown person' });
    }
    const strong = form.get('second') === '1';
    const login = {
      accountId: person.sub,
      acr: strong ? 'http://id.elegnamnden.se/loa/1.0/loa3' : 'http://id.elegnamnden.se/loa/1.0/loa2',
      amr: strong ? ['pwd', 'mfa'] : ['pwd'],
    };
    return provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    return res.end(String(err));
  }
});
server.listen(Number(port), '127.0.0.1', () => console.log('ready'));
