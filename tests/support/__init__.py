"""Helpers shared by the test packages: servers, browsers, pages, SQL, API clients."""
