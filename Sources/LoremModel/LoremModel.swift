import LoremIO
