"""The Anaplan sandbox: an in-memory emulator of Anaplan's auth, discovery and ALM APIs."""
