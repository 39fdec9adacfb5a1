//! Which browser, and where its driver and binary are.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::Error;

/// A browser the harness can drive.
///
/// ```
/// use harness::Browser;
/// let browser: Browser = "firefox".parse()?;
/// assert_eq!(browser, Browser::Firefox);
/// assert_eq!(browser.to_string(), "firefox");
/// # Ok::<(), harness::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Browser {
    /// Chrome or Chromium, through chromedriver.
    Chrome,
    /// Firefox, through geckodriver.
    Firefox,
}

impl Browser {
    /// The browser named by `HARNESS_BROWSER` (`chrome` or `firefox`), Chrome when unset.
    ///
    /// ```
    /// // `chrome` unless HARNESS_BROWSER names another browser.
    /// let browser = harness::Browser::from_env()?;
    /// println!("testing on {browser}");
    /// # Ok::<(), harness::Error>(())
    /// ```
    pub fn from_env() -> Result<Self, Error> {
        match std::env::var("HARNESS_BROWSER") {
            Ok(name) if !name.trim().is_empty() => name.parse(),
            _ => Ok(Browser::Chrome),
        }
    }

    /// The lower-case name: `chrome` or `firefox`.
    ///
    /// ```
    /// assert_eq!(harness::Browser::Chrome.name(), "chrome");
    /// assert_eq!(harness::Browser::Firefox.name(), "firefox");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Browser::Chrome => "chrome",
            Browser::Firefox => "firefox",
        }
    }

    /// The driver program's name.
    pub(crate) fn driver_program(self) -> &'static str {
        match self {
            Browser::Chrome => "chromedriver",
            Browser::Firefox => "geckodriver",
        }
    }

    /// The environment variable that may name the driver.
    pub(crate) fn driver_env(self) -> &'static str {
        match self {
            Browser::Chrome => "CHROMEDRIVER",
            Browser::Firefox => "GECKODRIVER",
        }
    }

    /// The environment variable that may name the browser binary.
    pub(crate) fn binary_env(self) -> &'static str {
        match self {
            Browser::Chrome => "CHROME_BIN",
            Browser::Firefox => "FIREFOX_BIN",
        }
    }

    fn binary_names(self) -> &'static [&'static str] {
        match self {
            Browser::Chrome => &[
                "chromium",
                "chromium-browser",
                "google-chrome",
                "google-chrome-stable",
                "chrome",
            ],
            Browser::Firefox => &["firefox", "firefox-esr"],
        }
    }

    /// The commands that install the driver and the browser on Debian and Ubuntu.
    ///
    /// ```
    /// let hint = harness::Browser::Chrome.install_hint();
    /// assert_eq!(hint, "apt-get install chromium chromium-driver");
    /// ```
    pub fn install_hint(self) -> &'static str {
        match self {
            Browser::Chrome => "apt-get install chromium chromium-driver",
            Browser::Firefox => "apt-get install firefox-esr && cargo install geckodriver",
        }
    }

    /// Finds the driver: `$CHROMEDRIVER`/`$GECKODRIVER`, then `PATH`, then cargo's bin folder.
    pub(crate) fn find_driver(self) -> Result<PathBuf, Error> {
        let mut extra = Vec::new();
        if let Some(home) = std::env::var_os("CARGO_HOME") {
            extra.push(PathBuf::from(home).join("bin"));
        }
        if let Some(home) = std::env::var_os("HOME") {
            extra.push(PathBuf::from(home).join(".cargo/bin"));
        }
        find(self.driver_env(), &[self.driver_program()], &extra).map_err(|looked| {
            Error::DriverNotFound {
                browser: self,
                program: self.driver_program(),
                looked,
            }
        })
    }

    /// Finds the browser binary: `$CHROME_BIN`/`$FIREFOX_BIN`, then `PATH`.
    pub(crate) fn find_binary(self) -> Result<PathBuf, Error> {
        find(self.binary_env(), self.binary_names(), &[]).map_err(|looked| Error::BrowserNotFound {
            browser: self,
            looked,
        })
    }
}

/// Looks for `names` in `$env`, then on `PATH`, then in `extra`; on failure says where it looked.
fn find(env: &str, names: &[&str], extra: &[PathBuf]) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("${env} = {} (no such file)", path.display()))
        };
    }
    let mut dirs = crate::locate::path_dirs(None);
    dirs.extend(extra.iter().cloned());
    let names_os: Vec<&std::ffi::OsStr> = names.iter().map(std::ffi::OsStr::new).collect();
    if let Some(found) = crate::locate::find_in(&dirs, &names_os) {
        return Ok(found);
    }
    let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Err(format!(
        "${env} (unset), then {} in {}",
        names.join(", "),
        dirs.join(":")
    ))
}

impl fmt::Display for Browser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Browser {
    type Err = Error;

    /// Parses `chrome` (or `chromium`) or `firefox`, ignoring case and surrounding white space.
    ///
    /// ```
    /// use harness::Browser;
    /// assert_eq!(" Chromium".parse::<Browser>()?, Browser::Chrome);
    /// assert!(matches!("safari".parse::<Browser>(), Err(harness::Error::UnknownBrowser { .. })));
    /// # Ok::<(), harness::Error>(())
    /// ```
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "chrome" | "chromium" => Ok(Browser::Chrome),
            "firefox" => Ok(Browser::Firefox),
            _ => Err(Error::UnknownBrowser {
                given: s.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_refuses_others() {
        assert_eq!("chrome".parse::<Browser>().unwrap(), Browser::Chrome);
        assert_eq!("Firefox".parse::<Browser>().unwrap(), Browser::Firefox);
        let e = "safari".parse::<Browser>().unwrap_err().to_string();
        assert!(e.contains("unknown browser \"safari\""), "{e}");
        assert!(e.contains("chrome or firefox"), "{e}");
    }

    #[test]
    fn missing_driver_lists_where_it_looked_and_how_to_install() {
        let e = find("HARNESS_TEST_NO_SUCH_VAR", &["no-such-driver"], &[]).unwrap_err();
        assert!(
            e.contains("$HARNESS_TEST_NO_SUCH_VAR (unset), then no-such-driver in"),
            "{e}"
        );
        let e = Error::DriverNotFound {
            browser: Browser::Firefox,
            program: "geckodriver",
            looked: e,
        }
        .to_string();
        assert!(
            e.contains("apt-get install firefox-esr && cargo install geckodriver"),
            "{e}"
        );
    }
}
