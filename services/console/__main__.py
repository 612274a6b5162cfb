"""`python -m services.console api`: run the web console."""

from services.console.app import main

if __name__ == "__main__":
    main()
