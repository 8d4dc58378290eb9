package com.cloudbees.plugins.credentials

/** Stands in for the credentials plugin's SecretBytes: fromString takes base64, as the real one does. */
final class SecretBytes {
    final String base64

    private SecretBytes(String base64) {
        this.base64 = base64
    }

    static SecretBytes fromString(String data) {
        Base64.decoder.decode(data) // refuses what is not base64, as SecretBytes would misread it
        new SecretBytes(data)
    }
}
