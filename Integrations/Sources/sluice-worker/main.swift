print("tmp")
