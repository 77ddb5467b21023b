print("lorem-gpu")
