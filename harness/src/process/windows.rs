//! Windows: a job object per server, closed (and so killed) with this process.
//!
//! Not exercised by this repository's CI, which runs on Linux; kept compiling-ready for users.

use std::borrow::Cow;
use std::io;
use std::os::windows::io::AsRawHandle;
use std::process::ExitStatus;

use super::{Child, Command, Inner};

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
    SetInformationJobObject, TerminateJobObject,
};

/// Nothing to prepare: the job object is attached right after spawn.
pub fn configure(_cmd: &mut Command, _keep: bool) {}

/// Nothing to prepare: Windows has no parent-death signal (the CLI puts the command in a job).
pub fn tie_to_parent(_cmd: &mut Command) {}

/// Spawns `cmd` with `std::process::Command`.
pub async fn spawn(mut cmd: Command) -> io::Result<Child> {
    let child = cmd.take_std().spawn()?;
    Ok(Child::from_std(child, false))
}

/// A job object holding a spawned server and everything it starts.
#[derive(Debug)]
pub struct Group {
    job: HANDLE,
    pid: u32,
}

// SAFETY: a job object handle may be used from any thread.
#[expect(unsafe_code, reason = "a HANDLE is a plain kernel handle")]
unsafe impl Send for Group {}
// SAFETY: as above; the job APIs are thread-safe.
#[expect(unsafe_code, reason = "a HANDLE is a plain kernel handle")]
unsafe impl Sync for Group {}

impl Group {
    /// Puts `child` in a new job that dies with this process unless `keep`.
    #[expect(unsafe_code, reason = "Win32 job object calls")]
    pub fn adopt(child: &Child, keep: bool) -> Self {
        // SAFETY: plain Win32 calls on handles we own; failures leave `job` null and are tolerated.
        unsafe {
            let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
            if !job.is_null() {
                if !keep {
                    let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
                    info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
                    SetInformationJobObject(
                        job,
                        JobObjectExtendedLimitInformation,
                        (&raw const info).cast(),
                        size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
                    );
                }
                let Inner::Std(std_child) = &child.inner;
                AssignProcessToJobObject(job, std_child.as_raw_handle() as HANDLE);
            }
            Self {
                job,
                pid: child.id(),
            }
        }
    }

    /// The server's process id.
    pub(crate) fn id(&self) -> u32 {
        self.pid
    }

    /// Windows has no SIGTERM for console-less children: terminate the job.
    pub fn terminate(&self) {
        self.kill();
    }

    /// Windows has no SIGINT for console-less children: terminate the job.
    pub fn interrupt(&self) {
        self.kill();
    }

    /// Ends every process in the job.
    #[expect(unsafe_code, reason = "Win32 job object call")]
    pub fn kill(&self) {
        if !self.job.is_null() {
            // SAFETY: `job` is a job handle we own.
            unsafe { TerminateJobObject(self.job, 1) };
        }
    }

    /// Closes the job handle.
    #[expect(unsafe_code, reason = "Win32 handle close")]
    pub fn release(&mut self) {
        if !self.job.is_null() {
            // SAFETY: `job` is a handle we own, closed once.
            unsafe { CloseHandle(self.job) };
            self.job = std::ptr::null_mut();
        }
    }
}

/// Blocks until `pid` exits. On Windows a process handle keeps the id reserved, so waiting through
/// a fresh handle is enough.
pub fn wait_exit(pid: u32) -> io::Result<ExitStatus> {
    use windows_sys::Win32::System::Threading::INFINITE;
    exit_status(pid, INFINITE)?.ok_or_else(|| io::Error::other("an endless wait ended early"))
}

/// The exit status of `pid` if it has exited, without blocking.
pub(crate) fn try_exit(pid: u32) -> io::Result<Option<ExitStatus>> {
    exit_status(pid, 0)
}

#[expect(unsafe_code, reason = "Win32 process wait")]
fn exit_status(pid: u32, wait_ms: u32) -> io::Result<Option<ExitStatus>> {
    use std::os::windows::process::ExitStatusExt;
    use windows_sys::Win32::Foundation::{WAIT_FAILED, WAIT_OBJECT_0};
    use windows_sys::Win32::System::Threading::{
        GetExitCodeProcess, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SYNCHRONIZE,
        WaitForSingleObject,
    };
    // SAFETY: the handle is opened, used and closed here.
    unsafe {
        let handle = OpenProcess(
            PROCESS_SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION,
            0,
            pid,
        );
        if handle.is_null() {
            return Err(io::Error::last_os_error());
        }
        let waited = WaitForSingleObject(handle, wait_ms);
        let mut code = 0u32;
        let result = if waited == WAIT_FAILED {
            Err(io::Error::last_os_error())
        } else if waited != WAIT_OBJECT_0 {
            Ok(None)
        } else if GetExitCodeProcess(handle, &mut code) == 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(Some(ExitStatus::from_raw(code)))
        };
        CloseHandle(handle);
        result
    }
}

/// Windows has no signals.
pub(crate) fn signal_name(_sig: i32) -> Option<Cow<'static, str>> {
    None
}
