//! Browser end-to-end suite against fixtures-app (see the browser issue).
