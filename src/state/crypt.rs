//! Client-side encryption of state and saved plans (`snapform { encryption { … } }`), the way
//! OpenTofu does it: every backend stores only ciphertext.
//!
//! - **Key**: from a passphrase (PBKDF2-HMAC-SHA256, a random salt per process, 600,000
//!   iterations unless set) or a 32-byte key (base64) from an environment variable.
//! - **Cipher**: AES-256-GCM, a random 96-bit nonce per message (ring, already used by rustls).
//! - **Rotation**: a fallback key is tried when the key does not open a message; what is written
//!   always uses the key, so the next write moves the state to it.
//! - **Migration**: `allow_unencrypted_read` reads a state written in clear (and writes it
//!   encrypted); without it, clear state with encryption configured is refused.
//!
//! An encrypted message is a JSON object, `{"snapform_encrypted":{"v":1,...}}`, so the pg
//! backend's `jsonb` columns and the log's JSON lines hold it as they held the state. The
//! engine installs the configuration's cipher once per run (`configure`); the backends call
//! `seal` on every text they store and `open` on every text they read.

use base64::Engine;
use ring::aead::{self, AES_256_GCM, LessSafeKey, Nonce, UnboundKey};
use ring::pbkdf2;
use ring::rand::{SecureRandom, SystemRandom};
use std::borrow::Cow;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, RwLock};

/// Iterations of PBKDF2-HMAC-SHA256 unless the block sets `iterations` (OWASP's figure).
pub const DEFAULT_ITERATIONS: u32 = 600_000;
/// The fewest iterations accepted (tests use few; production should not).
pub const MIN_ITERATIONS: u32 = 1_000;
const MARK: &str = "snapform_encrypted";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Where a key comes from.
#[derive(Clone)]
pub enum KeySource {
    Passphrase(String),
    Key([u8; 32]),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeySource::Passphrase(_) => "Passphrase(***)",
            KeySource::Key(_) => "Key(***)",
        })
    }
}

impl KeySource {
    /// A key given as base64 (or 64 hex digits) of 32 bytes.
    pub fn key_from_text(text: &str) -> Result<KeySource, String> {
        let t = text.trim();
        let bytes = if t.len() == 64 && t.chars().all(|c| c.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).map_err(|e| e.to_string()))
                .collect::<Result<Vec<u8>, String>>()?
        } else {
            B64.decode(t)
                .map_err(|e| format!("expected 32 bytes in base64 or 64 hex digits: {e}"))?
        };
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!(
                "expected 32 bytes (AES-256) in base64 or 64 hex digits, found {}",
                b.len()
            )
        })?;
        Ok(KeySource::Key(key))
    }
}

/// What the `encryption` block says, resolved (keys read from the environment).
#[derive(Clone, Debug)]
pub struct Settings {
    pub key: KeySource,
    pub fallback: Option<KeySource>,
    pub iterations: u32,
    pub allow_unencrypted_read: bool,
    /// Saved plans are encrypted too (default).
    pub plans: bool,
}

/// What a derived key depends on: which key (0: the key, 1: the fallback), salt, iterations.
type Derivation = (usize, Vec<u8>, u32);

/// A configured cipher: the settings and the keys derived so far.
pub struct Cipher {
    settings: Settings,
    rng: SystemRandom,
    /// The salt this process writes with (a passphrase's key is derived once per process).
    salt: [u8; 16],
    /// Keys derived so far.
    derived: Mutex<HashMap<Derivation, [u8; 32]>>,
}

static ACTIVE: RwLock<Option<Arc<Cipher>>> = RwLock::new(None);
/// A text in clear was read under `allow_unencrypted_read`: the next write of each store
/// rewrites it whole (and drops what still holds the clear text), even if nothing changed.
static READ_CLEAR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether this run read state in clear that must now be written encrypted.
pub fn read_clear_text() -> bool {
    READ_CLEAR.load(std::sync::atomic::Ordering::SeqCst)
}

/// Seals `plain` again if it is stored in clear (for older copies the migration rewrites).
pub fn reseal_if_clear(text: &str) -> Result<Option<String>, String> {
    match (envelope(text), active()) {
        (None, Some(c)) => c.seal(text).map(Some),
        _ => Ok(None),
    }
}

impl Cipher {
    /// A cipher for `s` (a fresh random salt for what it writes).
    pub fn new(s: Settings) -> Result<Cipher, String> {
        if s.iterations < MIN_ITERATIONS {
            return Err(format!(
                "encryption: iterations must be at least {MIN_ITERATIONS}, found {}",
                s.iterations
            ));
        }
        let rng = SystemRandom::new();
        let mut salt = [0u8; 16];
        rng.fill(&mut salt)
            .map_err(|_| "encryption: no random numbers".to_string())?;
        Ok(Cipher {
            settings: s,
            rng,
            salt,
            derived: Mutex::new(HashMap::new()),
        })
    }
}

/// Installs the cipher of this run's configuration (`None`: no encryption).
pub fn configure(settings: Option<Settings>) -> Result<(), String> {
    let cipher = settings.map(Cipher::new).transpose()?.map(Arc::new);
    *ACTIVE.write().unwrap_or_else(|e| e.into_inner()) = cipher;
    Ok(())
}

fn active() -> Option<Arc<Cipher>> {
    ACTIVE.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Whether saved plans are encrypted in this run.
pub fn plans_encrypted() -> bool {
    active().is_some_and(|c| c.settings.plans)
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Sealed {
    v: u32,
    method: String,
    kdf: String,
    #[serde(default)]
    iterations: u32,
    #[serde(default)]
    salt: String,
    nonce: String,
    data: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    snapform_encrypted: Sealed,
}

impl Cipher {
    fn source(&self, index: usize) -> Option<&KeySource> {
        match index {
            0 => Some(&self.settings.key),
            _ => self.settings.fallback.as_ref(),
        }
    }

    fn key(&self, index: usize, salt: &[u8], iterations: u32) -> Option<[u8; 32]> {
        match self.source(index)? {
            KeySource::Key(k) => Some(*k),
            KeySource::Passphrase(p) => {
                let id = (index, salt.to_vec(), iterations);
                let mut cache = self.derived.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(k) = cache.get(&id) {
                    return Some(*k);
                }
                let mut k = [0u8; 32];
                pbkdf2::derive(
                    pbkdf2::PBKDF2_HMAC_SHA256,
                    NonZeroU32::new(iterations.max(1)).expect("at least 1"),
                    salt,
                    p.as_bytes(),
                    &mut k,
                );
                cache.insert(id, k);
                Some(k)
            }
        }
    }

    fn seal(&self, plain: &str) -> Result<String, String> {
        let passphrase = matches!(self.settings.key, KeySource::Passphrase(_));
        let (salt, iterations) = if passphrase {
            (self.salt.to_vec(), self.settings.iterations)
        } else {
            (Vec::new(), 0)
        };
        let key = self.key(0, &salt, iterations).expect("the key is set");
        let mut nonce = [0u8; 12];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| "encryption: no random numbers".to_string())?;
        let k = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).map_err(|e| e.to_string())?);
        let mut data = plain.as_bytes().to_vec();
        k.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            aead::Aad::empty(),
            &mut data,
        )
        .map_err(|_| "encryption failed".to_string())?;
        let env = Envelope {
            snapform_encrypted: Sealed {
                v: 1,
                method: "aes-256-gcm".into(),
                kdf: if passphrase { "pbkdf2-sha256" } else { "none" }.into(),
                iterations,
                salt: B64.encode(&salt),
                nonce: B64.encode(nonce),
                data: B64.encode(&data),
            },
        };
        serde_json::to_string(&env).map_err(|e| e.to_string())
    }

    fn open(&self, s: &Sealed, what: &str) -> Result<String, String> {
        if s.v != 1 || s.method != "aes-256-gcm" {
            return Err(format!(
                "{what} is encrypted with {} (version {}), which this snapform does not know",
                s.method, s.v
            ));
        }
        let bad = |m: &str| format!("{what}: the encrypted data is damaged ({m})");
        let salt = B64.decode(&s.salt).map_err(|_| bad("salt"))?;
        let nonce: [u8; 12] = B64
            .decode(&s.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| bad("nonce"))?;
        let data = B64.decode(&s.data).map_err(|_| bad("data"))?;
        let by_passphrase = s.kdf == "pbkdf2-sha256";
        for index in 0..2 {
            let Some(src) = self.source(index) else {
                continue;
            };
            if by_passphrase != matches!(src, KeySource::Passphrase(_)) {
                continue;
            }
            let Some(key) = self.key(index, &salt, s.iterations) else {
                continue;
            };
            let Ok(unbound) = UnboundKey::new(&AES_256_GCM, &key) else {
                continue;
            };
            let k = LessSafeKey::new(unbound);
            let mut buf = data.clone();
            if let Ok(plain) = k.open_in_place(
                Nonce::assume_unique_for_key(nonce),
                aead::Aad::empty(),
                &mut buf,
            ) {
                return String::from_utf8(plain.to_vec()).map_err(|_| bad("not text"));
            }
        }
        let tried = if self.settings.fallback.is_some() {
            "the key and the fallback key"
        } else {
            "the key"
        };
        Err(format!(
            "{what} cannot be decrypted with {tried} of the encryption block: a wrong {} (nothing was changed)",
            if by_passphrase { "passphrase" } else { "key" }
        ))
    }
}

fn envelope(text: &str) -> Option<Sealed> {
    let t = text.trim_start();
    // The mark is near the start; look at bytes, since 64 may fall inside a character.
    let head = &t.as_bytes()[..t.len().min(64)];
    if !t.starts_with('{') || !head.windows(MARK.len()).any(|w| w == MARK.as_bytes()) {
        return None;
    }
    serde_json::from_str::<Envelope>(t)
        .ok()
        .map(|e| e.snapform_encrypted)
}

/// `plain` as it is stored: encrypted when encryption is configured.
pub fn seal(plain: &str) -> Result<String, String> {
    seal_with(active().as_deref(), plain)
}

fn seal_with(c: Option<&Cipher>, plain: &str) -> Result<String, String> {
    match c {
        Some(c) => c.seal(plain),
        None => Ok(plain.to_string()),
    }
}

/// `seal` for saved plans (which the block may leave in clear with `plans = false`).
pub fn seal_plan(plain: &str) -> Result<String, String> {
    if plans_encrypted() {
        seal(plain)
    } else {
        Ok(plain.to_string())
    }
}

/// A saved plan's text as plain text: a plan in clear is read when plans are not encrypted.
pub fn open_plan<'a>(text: &'a str, what: &str) -> Result<Cow<'a, str>, String> {
    if envelope(text).is_none() && !plans_encrypted() {
        return Ok(Cow::Borrowed(text));
    }
    open(text, what)
}

/// Stored text as plain text. `what` names it in errors (`state file x`, `pg state ...`).
pub fn open<'a>(text: &'a str, what: &str) -> Result<Cow<'a, str>, String> {
    let c = active();
    let plain = open_with(c.as_deref(), text, what)?;
    if c.is_some() && envelope(text).is_none() && !is_empty_json(text) {
        READ_CLEAR.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    Ok(plain)
}

fn open_with<'a>(c: Option<&Cipher>, text: &'a str, what: &str) -> Result<Cow<'a, str>, String> {
    match (envelope(text), c) {
        (Some(s), Some(c)) => c.open(&s, what).map(Cow::Owned),
        (Some(_), None) => Err(format!(
            "{what} is encrypted, and this configuration has no encryption block: add snapform {{ encryption {{ ... }} }} with its key"
        )),
        (None, Some(c)) if !c.settings.allow_unencrypted_read && !is_empty_json(text) => {
            Err(format!(
                "{what} is not encrypted, and this configuration encrypts state: to encrypt it, run once with allow_unencrypted_read = true in the encryption block (it is read in clear and written encrypted)"
            ))
        }
        (None, _) => Ok(Cow::Borrowed(text)),
    }
}

fn is_empty_json(text: &str) -> bool {
    text.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(key: KeySource, fallback: Option<KeySource>) -> Settings {
        Settings {
            key,
            fallback,
            iterations: MIN_ITERATIONS,
            allow_unencrypted_read: false,
            plans: true,
        }
    }

    // Ciphers are used directly: the process-wide one is for runs, and tests run at once.
    #[test]
    fn seal_open_rotation_wrong_key_and_clear_text() {
        let pass = |p: &str| KeySource::Passphrase(p.into());
        let c = |s: Settings| Cipher::new(s).unwrap();
        let one = c(settings(pass("one"), None));
        let sealed = seal_with(Some(&one), "{\"secret\": \"hunter2\"}").unwrap();
        assert!(
            !sealed.contains("hunter2") && sealed.contains(MARK),
            "{sealed}"
        );
        assert_eq!(
            open_with(Some(&one), &sealed, "x").unwrap(),
            "{\"secret\": \"hunter2\"}"
        );
        // Rotation: the new passphrase writes, the old one still reads.
        let two = c(settings(pass("two"), Some(pass("one"))));
        assert_eq!(
            open_with(Some(&two), &sealed, "x").unwrap(),
            "{\"secret\": \"hunter2\"}"
        );
        // A wrong key fails clearly.
        let three = c(settings(pass("three"), None));
        let e = open_with(Some(&three), &sealed, "state file s").unwrap_err();
        assert!(e.contains("wrong passphrase"), "{e}");
        // Clear text is refused unless allowed; encrypted text without a block too.
        let e = open_with(Some(&three), "{\"a\": 1}", "s").unwrap_err();
        assert!(e.contains("not encrypted"), "{e}");
        let k = KeySource::key_from_text(&B64.encode([7u8; 32])).unwrap();
        let by_key = c(Settings {
            allow_unencrypted_read: true,
            ..settings(k, None)
        });
        assert_eq!(
            open_with(Some(&by_key), "{\"a\": 1}", "s").unwrap(),
            "{\"a\": 1}"
        );
        let sealed = seal_with(Some(&by_key), "plain").unwrap();
        assert_eq!(open_with(Some(&by_key), &sealed, "s").unwrap(), "plain");
        assert!(
            open_with(None, &sealed, "s")
                .unwrap_err()
                .contains("is encrypted")
        );
        assert!(
            Cipher::new(Settings {
                iterations: 10,
                ..settings(pass("x"), None)
            })
            .is_err()
        );
        assert!(KeySource::key_from_text("c2hvcnQ=").is_err());
    }
}
