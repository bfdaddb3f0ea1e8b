// Placeholder until the support code lands.
