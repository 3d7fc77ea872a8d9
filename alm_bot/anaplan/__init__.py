"""The Anaplan client: authentication, discovery (`AnaplanClient`) and the 15 ALM operations (`AlmClient`)."""
