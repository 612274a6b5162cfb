"""`python -m services.issuer api`: run the token issuer."""

from services.issuer.app import main

if __name__ == "__main__":
    main()
